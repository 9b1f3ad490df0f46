import Dispatch
import Foundation
import HarkConfig
import HarkHistory
import HarkStream
import Logging
import Synchronization

/// How the service is doing, for `/health` and for systemd: `READY=1` once the server listens,
/// audio has arrived and the database takes writes; `WATCHDOG=1` at half of `$WATCHDOG_USEC`, but
/// only while audio keeps arriving (a capture that stalls stops the pings and systemd restarts
/// the service); a `STATUS=` line a person can read in `systemctl status`; the retention passes.
final class ServiceMonitor: Sendable {
    enum Check: String, Sendable { case audio, pipeline, database }

    let notifier: SystemdNotifier
    private let pipeline: LivePipeline
    private let store: HistoryStore
    let recorder: HistoryRecorder
    private let settings: ServerSettings
    private let logger: Logger
    private struct State {
        var port: Int?
        var ready = false
        var lastStatus = ""
    }
    private let state = Mutex(State())

    init(pipeline: LivePipeline, store: HistoryStore, recorder: HistoryRecorder, settings: ServerSettings, notifier: SystemdNotifier,
         logger: Logger) {
        self.pipeline = pipeline
        self.store = store
        self.recorder = recorder
        self.settings = settings
        self.notifier = notifier
        self.logger = logger
    }

    func listening(on port: Int) { state.withLock { $0.port = port } }

    /// Seconds since the capture last delivered audio (nil: none yet).
    var secondsSinceAudio: Double? {
        pipeline.lastAudioNanos.map { Double(DispatchTime.now().uptimeNanoseconds - min($0, DispatchTime.now().uptimeNanoseconds)) / 1e9 }
    }

    /// The checks that fail now (empty: healthy). Touches the database: call off the pool.
    func failingChecks() -> [Check] {
        var failing: [Check] = []
        if (secondsSinceAudio ?? .infinity) > settings.healthAudioSeconds { failing.append(.audio) }
        if pipeline.hasEnded { failing.append(.pipeline) }
        // A probe alone can pass on a full disk (SQLite may need no new page for it): the
        // history's own last write says whether events reach the disk.
        if recorder.health.writesFailing || !store.isWritable { failing.append(.database) }
        return failing
    }

    /// Until cancelled: readiness, watchdog, status lines, retention.
    func run() async {
        var lastPing = 0.0, lastStatus = 0.0, lastRetention = -Double.infinity
        let started = Date()
        while !Task.isCancelled {
            let now = Date().timeIntervalSince(started)
            let audioFresh = (secondsSinceAudio ?? .infinity) <= settings.healthAudioSeconds
            let (port, ready) = state.withLock { ($0.port, $0.ready) }
            if !ready, let port, audioFresh, (try? await offPool { [store] in store.isWritable }) == true {
                state.withLock { $0.ready = true }
                notifier.ready(status: statusLine(port: port))
                logger.notice("hark serve: ready (capture, model, database and server up)")
            }
            if let interval = notifier.watchdogInterval, ready, audioFresh, now - lastPing >= interval {
                notifier.watchdog()
                lastPing = now
            }
            if ready, let port, now - lastStatus >= 10 {
                let line = statusLine(port: port)
                if state.withLock({ s in defer { s.lastStatus = line }; return s.lastStatus != line }) { notifier.status(line) }
                lastStatus = now
            }
            if now - lastRetention >= settings.retentionCheckSeconds {
                lastRetention = now
                let (store, days, keep, logger) = (store, settings.retentionDays, settings.retentionEvents, logger)
                _ = try? await offPool { store.prune(days: days, keepEvents: keep, logger: logger) }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    private func statusLine(port: Int) -> String {
        let s = pipeline.summary
        let audio = (secondsSinceAudio ?? .infinity) <= settings.healthAudioSeconds ? "capturing" : "no audio"
        return "\(audio); http://\(settings.bind):\(port); \(s.windowsClassified) windows, \(s.windowsDropped) dropped, \(s.events) events"
    }
}
