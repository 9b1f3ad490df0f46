import Foundation
import HarkCapture
import HarkEngine
import HarkStream
import Synchronization
import Testing
import TestSupport

final class CollectingSink: LiveSink {
    let messages = Mutex<[LiveMessage]>([])
    let failAfter: Int?

    init(failAfter: Int? = nil) { self.failAfter = failAfter }

    struct Closed: Error {}

    func deliver(_ message: LiveMessage) throws {
        try messages.withLock { m in
            if let failAfter, m.count >= failAfter { throw Closed() }
            m.append(message)
        }
    }

    var events: [EventMessage] { messages.withLock { $0.compactMap { if case .event(let e) = $0 { e } else { nil } } } }
    var windows: [WindowMessage] { messages.withLock { $0.compactMap { if case .window(let w) = $0 { w } else { nil } } } }
    var statuses: [StatusMessage] { messages.withLock { $0.compactMap { if case .status(let s) = $0 { s } else { nil } } } }
}

/// The whole live path on real files through `FileSource` and the shipped model.
@Suite(.serialized) struct LivePipelineTests {
    static let model: ResNet? = try? ResNet.load(cardPath: TestPaths.shippedModelCard)

    func modelOrFail() throws -> ResNet { try #require(Self.model, "model \(TestPaths.shippedModelCard) loads") }

    func wav(_ samples: [Float], rate: Int = 16000) throws -> String {
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("in.wav")
        return try WAVWriter.write(samples, rate: rate, to: url).path
    }

    func noise(seconds: Double, rate: Int = 16000, amplitude: Float = 0.3) -> [Float] {
        var g = SystemRandomNumberGenerator()
        return (0..<Int(seconds * Double(rate))).map { _ in Float.random(in: -amplitude...amplitude, using: &g) }
    }

    @Test func aFileGivesOneWindowPerHopAndNoneAreLost() async throws {
        let model = try modelOrFail()
        let path = try wav(noise(seconds: 12))
        var settings = LiveSettings()
        settings.emitWindows = true
        settings.backPressure = true
        let sink = CollectingSink()
        let pipeline = try LivePipeline(model: model, settings: settings, sink: sink) { FileSource(path: path) }
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        let ends = sink.windows.map(\.end)
        #expect(ends.map { Int($0.rounded()) } == Array(5...12))
        let summary = try #require(sink.statuses.last?.summary)
        #expect(summary.windowsClassified == 8 && summary.windowsDropped == 0 && summary.windowsOverwritten == 0)
        #expect(abs(summary.streamSeconds - 12) < 0.01)
        #expect(sink.statuses.first?.status == .captureStarted)
        #expect(sink.statuses.first?.sampleRate == 16000)
    }

    @Test func silenceIsGatedAndRaisesNoEvents() async throws {
        let model = try modelOrFail()
        let path = try wav([Float](repeating: 0, count: 16000 * 7))
        var settings = LiveSettings()
        settings.emitWindows = true
        settings.backPressure = true
        settings.detector.thresholds = .init(on: 0.01, off: 0.005)
        settings.detector.confirmWindows = 1
        settings.detector.confirmOf = 1
        let sink = CollectingSink()
        let pipeline = try LivePipeline(model: model, settings: settings, sink: sink) { FileSource(path: path) }
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        #expect(sink.events.isEmpty)
        #expect(sink.windows.count == 3 && sink.windows.allSatisfy { $0.gated && $0.top.isEmpty })
        #expect(sink.statuses.last?.summary?.windowsGated == 3)
    }

    @Test func aSlowModelDropsWholeWindowsWhileCaptureKeepsRealTime() async throws {
        let model = try modelOrFail()
        let seconds = 8.0
        let path = try wav(noise(seconds: seconds))
        var settings = LiveSettings()
        settings.hopSeconds = 0.25
        settings.maxPendingWindows = 1
        settings.simulatedModelDelaySeconds = 1.0
        settings.paceToRealTime = true
        let sink = CollectingSink()
        let pipeline = try LivePipeline(model: model, settings: settings, sink: sink) { FileSource(path: path) }
        // Timed on the waiting thread itself, so the test runner's scheduling cannot inflate it.
        let (outcome, elapsed) = try await offThread { () -> (LivePipeline.Outcome, Double) in
            let started = Date()
            pipeline.start()
            let outcome = pipeline.wait()
            return (outcome, Date().timeIntervalSince(started))
        }
        #expect(outcome == .endOfStream)
        let summary = try #require(sink.statuses.last?.summary)
        // 13 windows were due (ends at 5.0, 5.25 … 8.0); the model managed about one a second.
        #expect(summary.windowsDropped > 0)
        #expect(summary.windowsClassified + summary.windowsDropped + summary.windowsGated == 13)
        #expect(summary.windowsOverwritten == 0)
        #expect(sink.statuses.contains { $0.status == .windowsDropped && ($0.count ?? 0) > 0 })
        // Capture kept real time: the stream took about its own length, not length + model time.
        #expect(elapsed < seconds + 2.5, "took \(elapsed) s for \(seconds) s of audio")
        #expect(abs(summary.streamSeconds - seconds) < 0.05)
    }

    @Test func stopEndsOpenEventsPromptly() async throws {
        let model = try modelOrFail()
        let path = try wav(noise(seconds: 30))
        var settings = LiveSettings()
        settings.detector.thresholds = .init(on: 0.0001, off: 0.0001)  // every class fires: events are open
        settings.detector.confirmWindows = 1
        settings.detector.confirmOf = 1
        settings.paceToRealTime = true
        let sink = CollectingSink()
        let pipeline = try LivePipeline(model: model, settings: settings, sink: sink) { FileSource(path: path) }
        pipeline.start()
        try await pause(6.5)
        let (outcome, stopSeconds) = try await offThread { () -> (LivePipeline.Outcome, Double) in
            let asked = Date()
            pipeline.stop()
            return (pipeline.wait(), Date().timeIntervalSince(asked))
        }
        #expect(outcome == .stopped)
        #expect(stopSeconds < 1.0)
        let starts = Set(sink.events.filter { $0.phase == .start }.map(\.id))
        let ends = Set(sink.events.filter { $0.phase == .end }.map(\.id))
        #expect(!starts.isEmpty)
        #expect(starts == ends)
        #expect(sink.statuses.last?.status == .stopped)
    }

    @Test func stopDuringASlowWindowWaitsForItAndNothingFollowsTheSummary() async throws {
        let model = try modelOrFail()
        let path = try wav(noise(seconds: 30))
        var settings = LiveSettings()
        settings.simulatedModelDelaySeconds = 4.0  // far longer than the stop's 0.7-s grace period
        settings.emitWindows = true
        settings.paceToRealTime = true
        let sink = CollectingSink()
        let pipeline = try LivePipeline(model: model, settings: settings, sink: sink) { FileSource(path: path) }
        pipeline.start()
        try await pause(5.6)  // the first window (ends at 5 s) is in the model
        let (outcome, stopSeconds) = try await offThread { () -> (LivePipeline.Outcome, Double) in
            let asked = Date()
            pipeline.stop()
            return (pipeline.wait(), Date().timeIntervalSince(asked))
        }
        #expect(outcome == .stopped)
        // wait() returned only once the model was idle: after the slow window, not at the summary.
        #expect(stopSeconds > 0.9, "wait() returned after \(stopSeconds) s, while the model still ran")
        #expect(stopSeconds < 6.0)
        try await pause(0.5)
        let last = try #require(sink.messages.withLock { $0.last })
        guard case .status(let status) = last else {
            Issue.record("a message followed the final status: \(last)")
            return
        }
        #expect(status.status == .stopped)
        #expect(sink.windows.isEmpty)  // the only window finished after the summary
    }

    @Test func aClosedOutputEndsTheRun() async throws {
        let model = try modelOrFail()
        let path = try wav(noise(seconds: 20))
        var settings = LiveSettings()
        settings.emitWindows = true
        settings.backPressure = true
        let sink = CollectingSink(failAfter: 3)
        let pipeline = try LivePipeline(model: model, settings: settings, sink: sink) { FileSource(path: path) }
        pipeline.start()
        guard case .failed(let why) = try await offThread({ pipeline.wait() }) else {
            Issue.record("expected a failure")
            return
        }
        #expect(why.contains("output closed"))
    }

    @Test func aMissingFileFailsWithItsName() async throws {
        let model = try modelOrFail()
        let sink = CollectingSink()
        let pipeline = try LivePipeline(model: model, settings: LiveSettings(), sink: sink) {
            FileSource(path: "/nonexistent/x.wav")
        }
        pipeline.start()
        guard case .failed(let why) = try await offThread({ pipeline.wait() }) else {
            Issue.record("expected a failure")
            return
        }
        #expect(why.contains("/nonexistent/x.wav"))
    }
}
