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
/// When a write fails (a full disk, say) the events are still handed on and are held in memory
/// (at most `maxHeldEvents`, the oldest given up beyond, counted) and written with the next burst
/// that succeeds; `health` says so meanwhile.
public final class HistoryRecorder: Sendable {
    /// Events held while the database refuses writes.
    public static let maxHeldEvents = 10_000

    /// Whether writes work, for `/health` and `/v1/status`.
    public struct Health: Sendable, Equatable, Encodable {
        /// The last write failed (the run, or a burst of events).
        public var writesFailing = false
        /// Events handed on but not yet in the database.
        public var heldEvents = 0
        /// Events given up because more than `maxHeldEvents` were held (never while the disk works).
        public var eventsNotRecorded = 0
        /// Failed write attempts.
        public var failedWrites = 0

        enum CodingKeys: String, CodingKey {
            case writesFailing = "writes_failing", heldEvents = "held_events", eventsNotRecorded = "events_not_recorded"
            case failedWrites = "failed_writes"
        }
    }

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
    private let state = Mutex(Health())

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

    /// Whether writes work now (any thread).
    public var health: Health { state.withLock { $0 } }

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
        var run = startRun()
        let audio = settings.eventAudio
            ? EventAudioKeeper(pipeline: pipeline, store: store, maxSeconds: settings.maxAudioSeconds, logger: logger,
                               failed: { [self] why in note(why) })
            : nil
        var downstreamOpen = downstream != nil
        var held: [EventMessage] = []
        while let batch = subscription.nextBatch(maximum: 256) {
            held += batch.compactMap { if case .event(let e) = $0 { e } else { nil } }
            if run == nil, !held.isEmpty { run = startRun() }
            if let run, !held.isEmpty {
                let started = DispatchTime.now().uptimeNanoseconds
                do {
                    try store.record(held, run: run)
                    wrote(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
                    recovered(written: held.count)
                    held = []
                } catch {
                    held = failedToRecord(held, error)
                }
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
        if !held.isEmpty { logger.error("history: \(held.count) events could not be recorded before the end of the run") }
    }

    private func startRun() -> Int64? {
        do {
            let run = try store.startRun(source: settings.source, model: settings.model, version: settings.version, at: WallClock.now())
            recovered(written: 0)
            return run
        } catch {
            _ = failedToRecord([], error)
            return nil
        }
    }

    /// After a failed write: one error line when writes start failing, the held events trimmed to
    /// `maxHeldEvents` (the oldest given up, counted and logged).
    private func failedToRecord(_ events: [EventMessage], _ error: any Error) -> [EventMessage] {
        let excess = max(0, events.count - Self.maxHeldEvents)
        let wasFailing = state.withLock { s in
            defer {
                s.writesFailing = true
                s.failedWrites += 1
                s.eventsNotRecorded += excess
                s.heldEvents = events.count - excess
            }
            return s.writesFailing
        }
        if !wasFailing {
            logger.error("history: writes fail; events go on to clients and are held (up to \(Self.maxHeldEvents)) until the database takes them",
                         metadata: ["error": "\(error)", "held": "\(events.count)"])
        }
        if excess > 0 { logger.error("history: \(excess) held events given up (more than \(Self.maxHeldEvents) held)") }
        return Array(events.dropFirst(excess))
    }

    private func recovered(written: Int) {
        let wasFailing = state.withLock { s in
            defer { s.writesFailing = false; s.heldEvents = 0 }
            return s.writesFailing
        }
        if wasFailing { logger.notice("history: writes work again; \(written) held events recorded") }
    }

    private func note(_ what: String) {
        state.withLock { $0.failedWrites += 1 }
        logger.error("history: \(what)")
    }

    private func note(_ error: any Error, _ what: String) {
        state.withLock { $0.failedWrites += 1 }
        logger.error("history: \(what)", metadata: ["error": "\(error)"])
    }
}
