import Dispatch
import Foundation
import HarkClassifier
import HarkCapture
import HarkEngine
import Synchronization

/// The live path of one stream:
///
///     capture thread ─▶ ring buffer ─▶ scheduler thread ─▶ model queue ─▶ output queue ─▶ hub ─▶ subscribers
///
/// Capture never waits on anything downstream; the scheduler cuts a window every hop and
/// drops it (counted) when the model queue is full; the output queue runs the event detector
/// and publishes typed results to the hub, which hands them to each subscriber under its own
/// contract (`LiveSubscription`). Every queue is bounded. `stop()` ends open events and reports a
/// summary; then the hub finishes and subscribers drain.
public final class LivePipeline: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The source ended (a file, or stdin closed).
        case endOfStream
        /// `stop()` was called (SIGINT/SIGTERM).
        case stopped
        /// The source failed for good, the model failed, or a subscriber could not go on (`fail`).
        case failed(String)
    }

    /// Where results, events and status go: subscribe before `start()` to miss nothing.
    public let hub = LiveHub()
    /// Rates, window, labels and layers, for subscribers.
    public let info: LiveStreamInfo
    private let settings: LiveSettings
    private let sampleRate: Int
    private let windowSamples: Int
    private let hopSamples: Int
    private let ring: RingBuffer
    private let counters = LiveCounters()
    private let capture: QueueConfined<CaptureLoop?> = QueueConfined(nil)

    private let modelQueue = DispatchQueue(label: "hark.model", qos: .userInitiated)
    private let outputQueue = DispatchQueue(label: "hark.output")
    private let inFlight = DispatchGroup()
    private let outputSlots: DispatchSemaphore
    private let modelSlots: DispatchSemaphore
    private let wakeScheduler = DispatchSemaphore(value: 0)
    private let consumerProgress = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    private struct Shared {
        var started = false
        var stopping = false
        var inputEnded = false
        var finishing = false
        var outcome: Outcome?
        var lastCaptureNanos: UInt64 = 0
        var scheduledThrough = 0
        var lastDropReport: UInt64 = 0
        /// The final `stopped` status went out; nothing may follow it.
        var summarized = false
    }
    private let shared = Mutex(Shared())

    /// Confined to the model queue.
    private let classifier: QueueConfined<any WindowClassifying>
    /// Confined to the output queue: the detector, and the drop count at the last published window.
    private let detector: QueueConfined<EventDetector>
    private let droppedAtLastWindow = QueueConfined(0)

    /// The shipped kind of classifier: the card's network(s), maps from `mapsMember` (default: the first).
    public convenience init(model: ModelEnsemble, settings: LiveSettings, mapsMember: String? = nil,
                            makeSource: @escaping @Sendable () throws -> any AudioSource) throws {
        try self.init(classifier: Classifier(model: model, mapsMember: mapsMember), settings: settings, makeSource: makeSource)
    }

    /// Captures at the classifier's rate (an ensemble's highest member rate).
    public init(classifier: any WindowClassifying, settings: LiveSettings,
                makeSource: @escaping @Sendable () throws -> any AudioSource) throws {
        let labels = classifier.labels
        try settings.detector.validate(labels: labels.map(\.name))
        guard settings.hopSeconds >= 0.25, settings.hopSeconds <= classifier.windowSeconds else {
            throw ConfigurationError.invalid("hop must be between 0.25 s and the window (\(classifier.windowSeconds) s), got \(settings.hopSeconds)")
        }
        self.settings = settings
        sampleRate = classifier.sampleRate
        windowSamples = classifier.windowSamples
        hopSamples = max(1, Int((settings.hopSeconds * Double(sampleRate)).rounded()))
        classifier.placeCrops(settings.cropPlacement, hopSamples: hopSamples)
        info = LiveStreamInfo(sampleRate: sampleRate, windowSeconds: classifier.windowSeconds, hopSeconds: settings.hopSeconds,
                              labels: labels, exposedLayers: classifier.exposedLayers, logMel: classifier.parameters)
        let ringSeconds = max(settings.ringSeconds, classifier.windowSeconds + 2 * settings.hopSeconds)
        ring = RingBuffer(capacity: Int(ringSeconds * Double(sampleRate)))
        outputSlots = DispatchSemaphore(value: max(1, settings.maxOutputBacklog))
        modelSlots = DispatchSemaphore(value: max(1, settings.maxPendingWindows))
        self.classifier = QueueConfined(classifier)
        var prefix = ""
        for _ in 0..<8 { prefix.append("0123456789abcdef".randomElement() ?? "0") }
        detector = QueueConfined(EventDetector(config: settings.detector, labels: labels.map(\.name), idPrefix: prefix))
        capture.value = CaptureLoop(
            makeSource: makeSource, sampleRate: sampleRate, settings: settings, ring: ring, counters: counters,
            status: { [weak self] in self?.emitStatus($0) },
            published: { [weak self] position, nanos in self?.captured(position: position, at: nanos) },
            shouldStop: { [weak self] in self?.shared.withLock { $0.stopping } ?? true },
            waitForConsumer: { [weak self] in self?.waitForConsumer() })
    }

    /// Starts the capture and scheduler threads (once: a second call does nothing).
    public func start() {
        let first = shared.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first, let loop = capture.value else { return }
        Thread.detachNewThread { [self] in
            let outcome = loop.run()
            // A failure claims the outcome before the scheduler learns the input ended; otherwise
            // its end-of-stream finish could win the race and hide the error.
            if case .failed(let why) = outcome { finish(.failed(why)) }
            shared.withLock { $0.inputEnded = true }
            wakeScheduler.signal()
            if outcome == .endOfStream {
                emitStatus(StatusMessage(.streamEnded, wallTime: WallClock.now(), message: "end of stream"))
            }
        }
        Thread.detachNewThread { [self] in schedule() }
    }

    /// Requests a graceful stop: open events end, a summary is published. Returns at once.
    public func stop() {
        end(.stopped)
    }

    /// Ends the run as failed, e.g. when a subscriber that must not lose anything cannot go on
    /// (stdout closed). Open events still end and the summary carries `reason`. Returns at once.
    public func fail(_ reason: String) {
        end(.failed(reason))
    }

    private func end(_ outcome: Outcome) {
        shared.withLock { $0.stopping = true }
        wakeScheduler.signal()
        consumerProgress.signal()
        DispatchQueue.global().async { [self] in finish(outcome) }
    }

    /// Blocks until the run is over and returns why. A window still in the model when the summary
    /// went out is joined (bounded) first, so the process never exits under a running model.
    public func wait() -> Outcome {
        finished.wait()
        finished.signal()  // let other waiters through
        _ = inFlight.wait(timeout: .now() + .seconds(10))
        return shared.withLock { $0.outcome } ?? .stopped
    }

    /// The captured audio between two stream positions (samples at `info.sampleRate`), clipped to
    /// what the ring still holds: where that starts, and the samples. A short copy under the
    /// ring's lock; capture never waits for it longer than that.
    public func recentAudio(from: Int, to: Int) -> (start: Int, samples: [Float]) {
        let start = max(from, ring.oldestAvailable), end = min(to, ring.position)
        guard end > start, let samples = ring.copy(from: start, to: end) else { return (max(start, 0), []) }
        return (start, samples)
    }

    /// Uptime (nanoseconds) when the capture thread last wrote audio; nil before the first block.
    public var lastAudioNanos: UInt64? {
        let nanos = shared.withLock { $0.lastCaptureNanos }
        return nanos == 0 ? nil : nanos
    }

    /// Publishes a status from outside the pipeline (an output's own news, such as its broker
    /// connection) to every subscriber, in order with the rest; ignored after the final status.
    public func note(_ status: StatusMessage) {
        emitStatus(status)
    }

    /// Whether the run is over (its final status went out).
    public var hasEnded: Bool { shared.withLock { $0.summarized } }

    /// Counters so far (also reported in the final `stopped` status).
    public var summary: RunSummary { counters.summary(sampleRate: sampleRate) }

    // MARK: capture → scheduler

    private func captured(position: Int, at nanos: UInt64) {
        shared.withLock { $0.lastCaptureNanos = nanos }
        wakeScheduler.signal()
    }

    private func waitForConsumer() {
        while true {
            let (behind, stopping) = shared.withLock { s in (ring.position - s.scheduledThrough >= hopSamples, s.stopping) }
            if !behind || stopping { return }
            _ = consumerProgress.wait(timeout: .now() + .milliseconds(50))
        }
    }

    // MARK: scheduler thread

    private func schedule() {
        var scheduler = WindowScheduler(windowSamples: windowSamples, hopSamples: hopSamples)
        var lastEnd = 0
        var sequence = 0
        while true {
            wakeScheduler.wait()
            let (stopping, ended, capturedAt) = shared.withLock { ($0.stopping, $0.inputEnded, $0.lastCaptureNanos) }
            if stopping { return }
            let position = ring.position
            for end in scheduler.due(upTo: position) {
                submit(end: end, sequence: sequence, capturedAt: capturedAt)
                sequence += 1
                lastEnd = end
            }
            shared.withLock { $0.scheduledThrough = scheduler.nextEnd - hopSamples }
            consumerProgress.signal()
            if ended {
                // A tail the hops did not reach (at least half a hop, or a stream shorter than a
                // window) still gets a window; a few samples of resampler flush do not.
                if position - lastEnd >= hopSamples / 2 || (lastEnd == 0 && position > 0) {
                    submit(end: position, sequence: sequence, capturedAt: capturedAt)
                }
                inFlight.notify(queue: .global()) { [self] in finish(.endOfStream) }
                return
            }
        }
    }

    /// A window cut from the ring, on its way through the model stage.
    private struct WindowJob: Sendable {
        var sequence: Int
        var start: Int
        var end: Int
        var capturedAt: UInt64
        /// Windows dropped before this one was cut (for `WindowResult.droppedBefore`).
        var droppedSoFar: Int
    }

    private func submit(end: Int, sequence: Int, capturedAt: UInt64) {
        let start = end - windowSamples
        let window: [Float]
        if start < 0 {
            // Only a stream shorter than one window: zero-pad at the front, as training pads clips.
            window = [Float](repeating: 0, count: -start) + (ring.copy(from: 0, to: end) ?? [])
        } else if let copied = ring.copy(from: start, to: end) {
            window = copied
        } else {
            counters.update { $0.windowsOverwritten += 1 }
            return
        }
        guard acquireModelSlot() else {
            reportDrop()
            return
        }
        let job = WindowJob(sequence: sequence, start: start, end: end, capturedAt: capturedAt,
                            droppedSoFar: counters.values.withLock { $0.windowsDropped })
        inFlight.enter()
        modelQueue.async { [self] in
            defer {
                modelSlots.signal()
                inFlight.leave()
            }
            classify(window: window, job: job)
        }
    }

    /// A place in the model stage. Live sources never wait for one (the window is dropped);
    /// under back-pressure the scheduler waits, which in turn holds the capture thread back.
    private func acquireModelSlot() -> Bool {
        guard settings.backPressure else { return modelSlots.wait(timeout: .now()) == .success }
        while modelSlots.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if shared.withLock({ $0.stopping }) { return false }
        }
        return true
    }

    /// Counts a dropped window and reports drops at most once a second, with the count since the last report.
    private func reportDrop() {
        let now = DispatchTime.now().uptimeNanoseconds
        let report = counters.values.withLock { v -> (Int, Int)? in
            v.windowsDropped += 1
            let due = shared.withLock { s -> Bool in
                guard now - s.lastDropReport >= 1_000_000_000 else { return false }
                s.lastDropReport = now
                return true
            }
            guard due else { return nil }
            defer { v.windowsDroppedReported = v.windowsDropped }
            return (v.windowsDropped - v.windowsDroppedReported, v.windowsDropped)
        }
        if let (count, total) = report {
            emitStatus(StatusMessage(.windowsDropped, wallTime: WallClock.now(),
                                     message: "the model fell behind real time; whole windows were skipped",
                                     count: count, total: total))
        }
    }

    // MARK: model queue

    private func classify(window: [Float], job: WindowJob) {
        // A window still queued after a stop is not worth a model pass: the summary is due.
        // It is counted as dropped, so the summary still accounts for every window cut.
        if shared.withLock({ $0.stopping }) {
            counters.update { $0.windowsDropped += 1 }
            return
        }
        let rms = EnergyGate.rmsDBFS(window)
        let gated = rms < settings.detector.energyGateDBFS
        // Only what some subscriber wants right now is computed.
        let wanted = hub.wanted
        var prediction: WindowPrediction?
        if !gated {
            do {
                // Confined: only this serial queue touches the classifier.
                let model = classifier.value
                prediction = try model.classify(streamWindow: window, endingAt: job.end, start: Double(max(job.start, 0)) / Double(sampleRate),
                                                topK: settings.topK, taps: wanted.layers.intersection(model.exposedLayers),
                                                includeLogMel: wanted.logMel)
            } catch {
                finish(.failed("model failed: \(error)"))
                return
            }
        }
        counters.update { gated ? ($0.windowsGated += 1) : ($0.windowsClassified += 1) }
        // Where in the window the sound is loud: the detector places event boundaries with it.
        let envelope = gated ? nil : EnergyEnvelope(samples: window, sampleRate: sampleRate,
                                                     start: Double(job.start) / Double(sampleRate))
        outputSlots.wait()
        let result = prediction, audio = wanted.audio ? window : nil
        outputQueue.async { [self] in
            defer { outputSlots.signal() }
            deliverWindow(job, rms: rms, gated: gated, prediction: result, envelope: envelope, audio: audio)
        }
    }

    // MARK: output queue

    private func deliverWindow(_ job: WindowJob, rms: Double, gated: Bool, prediction: WindowPrediction?,
                               envelope: EnergyEnvelope?, audio: [Float]?) {
        // A window that outran the stop's grace period: the detector is closed and the summary
        // sent, so an event from it could never end. (Only a model far slower than real time.)
        if shared.withLock({ $0.summarized }) { return }
        // A stream shorter than one window starts before 0 (zero-padded): report it from 0.
        let startSeconds = Double(max(job.start, 0)) / Double(sampleRate), endSeconds = Double(job.end) / Double(sampleRate)
        // Crops are placed from the window's true start (before 0 for a zero-padded first window).
        let offset = Double(job.start) / Double(sampleRate)
        let evidence = WindowEvidence(
            start: startSeconds, end: endSeconds, probabilities: prediction?.probabilities,
            crops: (prediction?.crops ?? []).map { CropScore(start: $0.start + offset, end: $0.end + offset, probabilities: $0.probabilities) },
            envelope: envelope, rule: settings.detector.score)
        // Confined: only the output queue touches the detector.
        let events = detector.value.update(evidence)
        deliver(events)
        let now = DispatchTime.now().uptimeNanoseconds
        let latency = Double(now - min(job.capturedAt, now)) / 1e6
        if !gated { counters.recordLatency(latency) }
        let droppedBefore = max(0, job.droppedSoFar - droppedAtLastWindow.value)
        droppedAtLastWindow.value = job.droppedSoFar
        hub.publish(.window(WindowResult(
            sequence: job.sequence, start: startSeconds, end: endSeconds, wallTime: WallClock.now(),
            capturedAt: Date().timeIntervalSince1970 - latency / 1e3, latencyMilliseconds: latency,
            rmsDBFS: rms, gated: gated, droppedBefore: droppedBefore, top: prediction?.top ?? [],
            probabilities: prediction?.probabilities, detectionScores: evidence.scores, featureMaps: prediction?.featureMaps ?? [:],
            logMel: prediction?.logMel, samples: audio)))
    }

    private func deliver(_ events: [DetectedEvent]) {
        let labels = info.labels
        for e in events {
            if e.phase == .start { counters.update { $0.events += 1 } }
            hub.publish(.event(EventMessage(e, emoji: labels[e.classIndex].emoji, wallTime: WallClock.now())))
        }
    }

    private func emitStatus(_ message: StatusMessage) {
        outputQueue.async { [self] in
            // Nothing follows the final status (a late capture_lost from a closing device, say).
            if !shared.withLock({ $0.summarized }) { hub.publish(.status(message)) }
        }
    }

    // MARK: shutdown

    /// Once: lets in-flight windows finish (briefly), ends open events, reports the summary.
    private func finish(_ outcome: Outcome) {
        let first = shared.withLock { s -> Bool in
            guard !s.finishing else { return false }
            s.finishing = true
            s.stopping = s.stopping || outcome != .endOfStream
            s.outcome = outcome
            return true
        }
        guard first else { return }
        wakeScheduler.signal()
        _ = inFlight.wait(timeout: .now() + .milliseconds(outcome == .endOfStream ? 60_000 : 700))
        outputQueue.async { [self] in
            let streamTime = Double(ring.position) / Double(sampleRate)
            deliver(detector.value.finish(at: streamTime))
            let summary = counters.summary(sampleRate: sampleRate)
            let message: String
            switch outcome {
            case .endOfStream: message = "stream ended"
            case .stopped: message = "stopped"
            case .failed(let why): message = why
            }
            hub.publish(.status(StatusMessage(.stopped, wallTime: WallClock.now(), message: message, summary: summary)))
            shared.withLock { $0.summarized = true }
            hub.finish()
            finished.signal()
        }
    }
}
