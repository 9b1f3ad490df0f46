import Foundation
import HarkAudio
import HarkStream
import Logging
import Synchronization

/// Writes the live run into the history, off the audio path: a lossless hub subscription read by a
/// thread of its own, one transaction per burst of items. Each event is on disk before it is
/// handed on (`downstream`: the JSON lines on stdout), so an event whose line was printed is in
/// the history even after `kill -9`. It also keeps each event's audio: from a second before its
/// start to its end (at most `maxAudioSeconds`), copied from the pipeline's ring as windows pass
/// (a short copy that never holds capture up) and written as FLAC when the event ends.
public final class HistoryRecorder: Sendable {
    public struct Settings: Sendable {
        public var source: String
        public var model: String
        public var version: String
        public var eventAudio: Bool
        public var maxAudioSeconds: Double

        public init(source: String, model: String, version: String, eventAudio: Bool, maxAudioSeconds: Double) {
            self.source = source
            self.model = model
            self.version = version
            self.eventAudio = eventAudio
            self.maxAudioSeconds = maxAudioSeconds
        }
    }

    private let store: HistoryStore
    private let pipeline: LivePipeline
    private let settings: Settings
    private let logger: Logger
    private let subscription: LiveSubscription
    private let downstream: (@Sendable (LiveOutput) throws -> Void)?
    /// Told how long each database write took (seconds).
    private let wrote: @Sendable (Double) -> Void
    private let done = DispatchSemaphore(value: 0)
    private let failures = Mutex(0)

    /// Subscribes to `pipeline` (windows too: they carry the clips forward). `downstream` gets every
    /// item after it is recorded.
    public init(store: HistoryStore, pipeline: LivePipeline, settings: Settings, logger: Logger, capacity: Int,
                downstream: (@Sendable (LiveOutput) throws -> Void)? = nil, wrote: @escaping @Sendable (Double) -> Void = { _ in }) {
        self.wrote = wrote
        self.store = store
        self.pipeline = pipeline
        self.settings = settings
        self.logger = logger
        self.downstream = downstream
        subscription = pipeline.hub.subscribe(Interest(windows: true), delivery: .lossless, capacity: capacity)
    }

    /// Database writes that failed (the run goes on; /health reports the database).
    public var writeFailures: Int { failures.withLock { $0 } }

    /// Starts recording. A downstream write that fails calls `failed` once (stdout closed).
    public func start(failed: @escaping @Sendable (String) -> Void) {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            run(failed: failed)
        }
    }

    /// Blocks until everything the pipeline published was recorded and handed on.
    public func wait() {
        done.wait()
        done.signal()
    }

    private func run(failed: @escaping @Sendable (String) -> Void) {
        var run: Int64?
        do {
            run = try store.startRun(source: settings.source, model: settings.model, version: settings.version, at: WallClock.now())
        } catch {
            note(error, "could not record the run")
        }
        let audio = settings.eventAudio
            ? EventAudioKeeper(pipeline: pipeline, store: store, maxSeconds: settings.maxAudioSeconds, logger: logger,
                               failed: { [self] why in note(why) })
            : nil
        var downstreamOpen = downstream != nil
        while let batch = subscription.nextBatch(maximum: 256) {
            let events = batch.compactMap { if case .event(let e) = $0 { e } else { nil } }
            if let run, !events.isEmpty {
                let started = DispatchTime.now().uptimeNanoseconds
                do { try store.record(events, run: run) } catch { note(error, "could not record \(events.count) events") }
                wrote(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            }
            for item in batch {
                switch item {
                case .event(let e):
                    if e.phase == .start { audio?.started(e.id, at: e.start, now: e.streamTime) }
                    if e.phase == .end { audio?.ended(e.id, at: e.end ?? e.streamTime) }
                case .window(let w):
                    audio?.advance(to: w.end)
                case .status(let s) where s.status == .stopped:
                    if let run {
                        do { try store.endRun(run, at: s.wallTime, outcome: s.message, summary: s.summary) } catch {
                            note(error, "could not close the run")
                        }
                    }
                default: break
                }
                guard downstreamOpen, let downstream else { continue }
                do {
                    try downstream(item)
                } catch {
                    downstreamOpen = false
                    failed("output closed: \(error)")
                }
            }
        }
        audio?.drain(timeout: 0.5)
    }

    private func note(_ what: String) {
        failures.withLock { $0 += 1 }
        logger.error("history: \(what)")
    }

    private func note(_ error: any Error, _ what: String) {
        failures.withLock { $0 += 1 }
        logger.error("history: \(what)", metadata: ["error": "\(error)"])
    }
}
