import Foundation
import HarkCapture
import HarkClassifier
@testable import HarkStream
import Synchronization
import Testing
import TestSupport

/// The pipeline's contracts, with a fake deterministic classifier behind its seam: order, drops,
/// events never lost, feature maps only when wanted, one capture, one summary.
@Suite struct PipelineContractTests {
    /// Loud seconds become a "dog" (class 0); the detector's settings make each loud stretch one event.
    func settings(backPressure: Bool = true) -> LiveSettings {
        var s = LiveSettings()
        s.backPressure = backPressure
        s.hopSeconds = 0.5
        s.detector.confirmWindows = 1
        s.detector.confirmOf = 1
        s.detector.holdSeconds = 0.5
        return s
    }

    /// Two loud stretches in 14 s, each longer than a window.
    static let twoSounds = TestAudio.pattern([false, true, true, true, false, false, false, false, false, true, true, true, false, false])

    @Test func resultsArriveInStreamOrderWithEventsBeforeTheirWindow() async throws {
        let path = try TestAudio.wav(Self.twoSounds)
        let pipeline = try LivePipeline(classifier: FakeClassifier(), settings: settings()) { FileSource(path: path) }
        let out = Collector(pipeline, interest: Interest(windows: true))
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        try await out.drained()
        let windows = out.windows
        #expect(windows.map(\.sequence) == Array(0..<windows.count))
        #expect(zip(windows, windows.dropFirst()).allSatisfy { $0.end < $1.end })
        let starts = out.events.filter { $0.phase == .start }
        #expect(starts.count == 2 && starts.allSatisfy { $0.label == "dog" }, "\(out.events)")
        // Every event line comes right before the window whose result produced it.
        for (i, item) in out.all.enumerated() {
            guard case .event(let e) = item else { continue }
            let nextWindow = out.all[(i + 1)...].first { if case .window = $0 { true } else { false } }
            // Events after the last window are the ones the end of the stream closed.
            if case .window(let w) = nextWindow { #expect(abs(w.end - e.streamTime) < 1e-6, "\(e) before \(w.end)") }
        }
        // The final summary is the very last item.
        guard case .status(let last) = out.all.last else { Issue.record("the last item is no status"); return }
        #expect(last.status == .stopped && last.summary?.events == 2)
    }

    @Test func aSlowModelDropsWholeWindowsCountedWhileCaptureKeepsRealTime() async throws {
        let seconds = 8.0
        let path = try TestAudio.wav(TestAudio.noise(seconds: seconds))
        var s = settings(backPressure: false)
        s.hopSeconds = 0.25
        s.maxPendingWindows = 1
        s.paceToRealTime = true
        let pipeline = try LivePipeline(classifier: FakeClassifier(delaySeconds: 1.0), settings: s) { FileSource(path: path) }
        let out = Collector(pipeline, interest: Interest(windows: true))
        let (outcome, elapsed) = try await offThread { () -> (LivePipeline.Outcome, Double) in
            let started = Date()
            pipeline.start()
            let outcome = pipeline.wait()
            return (outcome, Date().timeIntervalSince(started))
        }
        try await out.drained()
        #expect(outcome == .endOfStream)
        let summary = try #require(out.statuses.last?.summary)
        // 25 windows were due (ends at 2.0, 2.25 … 8.0); the model managed about one a second.
        #expect(summary.windowsDropped > 0)
        #expect(summary.windowsClassified + summary.windowsDropped + summary.windowsGated == 25)
        #expect(summary.windowsOverwritten == 0)
        #expect(out.statuses.contains { $0.status == .windowsDropped && ($0.count ?? 0) > 0 })
        // Each published window says how many were dropped before it; they add up (the last
        // drops may follow the last published window).
        #expect(out.windows.map(\.droppedBefore).reduce(0, +) <= summary.windowsDropped)
        #expect(out.windows.map(\.droppedBefore).reduce(0, +) > 0)
        // Sequence numbers skip exactly the dropped windows.
        #expect(out.windows.last.map { $0.sequence + 1 - out.windows.count } == out.windows.map(\.droppedBefore).reduce(0, +))
        // Classifying every window would take 25 × 1 s; capture that kept real time ends near 8 s.
        // The bound sits between the two so that a loaded CI machine (this suite shares two cores
        // with the rest of the run) cannot fail it, while a blocking capture still would.
        #expect(elapsed < 25 * 1.0 * 0.7, "took \(elapsed) s for \(seconds) s of audio")
        #expect(abs(summary.streamSeconds - seconds) < 0.05)
    }

    /// A slow lossless subscriber costs windows upstream, never events; a telemetry subscriber that
    /// never reads loses only its own oldest items, counted, and holds nothing back.
    @Test func eventsAreNeverLostToASlowSubscriber() async throws {
        let path = try TestAudio.wav(Self.twoSounds)
        var s = settings(backPressure: false)
        s.paceToRealTime = true
        s.maxOutputBacklog = 2
        let pipeline = try LivePipeline(classifier: FakeClassifier(), settings: s) { FileSource(path: path) }
        let slow = Collector(pipeline, interest: Interest(windows: true), capacity: 2, perItemDelay: 0.6)
        let stalled = pipeline.hub.subscribe(Interest(windows: true), delivery: .newestWins, capacity: 3)
        let fast = Collector(pipeline, interest: Interest(windows: true))
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        try await slow.drained()
        try await fast.drained()
        let summary = try #require(fast.statuses.last?.summary)
        #expect(summary.windowsDropped > 0, "the slow subscriber should have cost windows")
        #expect(summary.events == 2)
        for collector in [slow, fast] {
            let starts = Set(collector.events.filter { $0.phase == .start }.map(\.id))
            let ends = Set(collector.events.filter { $0.phase == .end }.map(\.id))
            #expect(starts.count == 2 && starts == ends)
        }
        #expect(slow.events == fast.events)
        #expect(stalled.droppedCount > 0 && stalled.backlog == 3)
    }

    @Test func featureMapsAndLogMelAreComputedOnlyWhileSomeoneAsks() async throws {
        let path = try TestAudio.wav(TestAudio.noise(seconds: 6))
        let fake = FakeClassifier()
        let pipeline = try LivePipeline(classifier: fake, settings: settings()) { FileSource(path: path) }
        let plain = Collector(pipeline, interest: Interest(windows: true))
        let maps = Collector(pipeline, interest: Interest(layers: ["layer4", "nonexistent"], logMel: true))
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        try await plain.drained()
        try await maps.drained()
        let calls = fake.calls.withLock { $0 }
        #expect(!calls.isEmpty && calls.allSatisfy { $0.taps == ["layer4"] && $0.logMel })
        #expect(maps.windows.allSatisfy { $0.featureMaps.keys.sorted() == ["layer4"] && $0.logMel != nil })

        // Nobody asks: no taps, no log-mel, no audio kept.
        let quiet = FakeClassifier()
        let pipeline2 = try LivePipeline(classifier: quiet, settings: settings()) { FileSource(path: path) }
        let windowsOnly = Collector(pipeline2, interest: Interest(windows: true))
        pipeline2.start()
        #expect(try await offThread { pipeline2.wait() } == .endOfStream)
        try await windowsOnly.drained()
        #expect(quiet.calls.withLock { $0 }.allSatisfy { $0.taps.isEmpty && !$0.logMel })
        #expect(windowsOnly.windows.allSatisfy { $0.featureMaps.isEmpty && $0.logMel == nil && $0.samples == nil })
    }

    @Test func aModelFailureEndsTheRunWithOneSummary() async throws {
        let path = try TestAudio.wav(TestAudio.noise(seconds: 8))
        let pipeline = try LivePipeline(classifier: FakeClassifier(failOnCall: 3), settings: settings()) { FileSource(path: path) }
        let out = Collector(pipeline)
        pipeline.start()
        guard case .failed(let why) = try await offThread({ pipeline.wait() }) else {
            Issue.record("expected a failure")
            return
        }
        try await out.drained()
        #expect(why.hasPrefix("model failed"))
        let stopped = out.statuses.filter { $0.status == .stopped }
        #expect(stopped.count == 1)
        #expect(stopped.first?.summary != nil && stopped.first?.message == why)
    }

    @Test func startingTwiceStartsOneCapture() async throws {
        let path = try TestAudio.wav(TestAudio.noise(seconds: 4))
        let opened = Mutex(0)
        let pipeline = try LivePipeline(classifier: FakeClassifier(), settings: settings()) {
            opened.withLock { $0 += 1 }
            return FileSource(path: path)
        }
        let out = Collector(pipeline, interest: Interest(windows: true))
        pipeline.start()
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        try await out.drained()
        #expect(opened.withLock { $0 } == 1)
        #expect(out.statuses.filter { $0.status == .captureStarted }.count == 1)
        #expect(out.windows.map(\.end) == [2, 2.5, 3, 3.5, 4])
    }

    @Test func aSubscriberThatGivesUpEndsTheRun() async throws {
        let path = try TestAudio.wav(TestAudio.noise(seconds: 20))
        let pipeline = try LivePipeline(classifier: FakeClassifier(), settings: settings()) { FileSource(path: path) }
        _ = Collector(pipeline, interest: Interest(windows: true), failAfter: 3)
        let other = Collector(pipeline)
        pipeline.start()
        guard case .failed(let why) = try await offThread({ pipeline.wait() }) else {
            Issue.record("expected a failure")
            return
        }
        try await other.drained()
        #expect(why.contains("output closed"))
        #expect(other.statuses.last?.status == .stopped && other.statuses.last?.message == why)
    }
}

/// The subscription contracts on their own.
@Suite struct LiveSubscriptionTests {
    func status(_ n: Int) -> LiveOutput {
        .status(StatusMessage(.overruns, wallTime: "t", message: "\(n)", count: n))
    }

    @Test func newestWinsDropsTheOldestAndCountsThem() {
        let hub = LiveHub()
        let s = hub.subscribe(.events, delivery: .newestWins, capacity: 3)
        for n in 0..<10 { hub.publish(status(n)) }
        #expect(s.droppedCount == 7)
        hub.finish()
        var got: [Int] = []
        while let item = s.next() { if case .status(let m) = item { got.append(m.count ?? -1) } }
        #expect(got == [7, 8, 9])
    }

    @Test func losslessMakesThePublisherWaitAndLosesNothing() async throws {
        let hub = LiveHub()
        let s = hub.subscribe(.events, delivery: .lossless, capacity: 2)
        let published = Mutex(0)
        let publisher = Thread {
            for n in 0..<6 {
                hub.publish(self.status(n))
                published.withLock { $0 += 1 }
            }
            hub.finish()
        }
        publisher.start()
        try await pause(0.3)
        #expect(published.withLock { $0 } == 2, "the publisher waits for room")
        let got = try await offThread { () -> [Int] in
            var got: [Int] = []
            while let item = s.next() { if case .status(let m) = item { got.append(m.count ?? -1) } }
            return got
        }
        #expect(got == Array(0..<6))
        #expect(s.droppedCount == 0)
    }

    @Test func aCancelledSubscriberNeverHoldsThePublisher() async throws {
        let hub = LiveHub()
        let s = hub.subscribe(.events, delivery: .lossless, capacity: 1)
        hub.publish(status(0))
        s.cancel()
        let done = try await offThread { () -> Bool in
            for n in 1..<100 { hub.publish(self.status(n)) }
            return true
        }
        #expect(done)
        #expect(s.next() == nil)
    }

    @Test func aSubscriptionAfterTheEndIsFinishedAtOnce() {
        let hub = LiveHub()
        hub.finish()
        #expect(hub.subscribe(.events, delivery: .lossless, capacity: 4).next() == nil)
    }

    @Test func theHubWantsTheUnionOfLiveInterests() {
        let hub = LiveHub()
        let a = hub.subscribe(Interest(layers: ["layer1"]), delivery: .newestWins, capacity: 1)
        let b = hub.subscribe(Interest(layers: ["layer4"], logMel: true), delivery: .newestWins, capacity: 1)
        #expect(hub.wanted.layers == ["layer1", "layer4"] && hub.wanted.logMel && hub.wanted.windows)
        b.cancel()
        #expect(hub.wanted.layers == ["layer1"] && !hub.wanted.logMel)
        a.interest = .events
        #expect(!hub.wanted.windows && hub.wanted.layers.isEmpty)
    }
}
