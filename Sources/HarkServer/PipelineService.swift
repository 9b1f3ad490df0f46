import Foundation
import HarkConfig
import HarkFleet
import HarkHistory
import HarkStream
import Logging
import ServiceLifecycle
import Synchronization

/// The live pipeline as a `Service`: starts it with its subscribers (the history, which hands
/// every item on to stdout once it is on disk, the live-socket fan-out, the MQTT publisher), runs the status
/// ticker and the monitor (readiness, watchdog, retention), and on graceful shutdown says
/// STOPPING to systemd and stops the pipeline — open events end, are recorded, printed and sent —
/// then asks every live client to close ("going away") once its events are out; uploads waiting
/// or in analysis are answered 503 at once, so no request holds the server up. Its run returns
/// when the stream is over, which shuts the whole group down. The blocking pipeline stays on its
/// own threads.
final class PipelineService: Service, Sendable {
    private let pipeline: LivePipeline
    private let broadcaster: LiveBroadcaster
    private let recorder: HistoryRecorder
    private let monitor: ServiceMonitor
    private let mqtt: MQTTPublisher?
    private let worker: AnalysisWorker
    private let statusInterval: Double
    private let outcome = Mutex<LivePipeline.Outcome?>(nil)

    init(pipeline: LivePipeline, broadcaster: LiveBroadcaster, recorder: HistoryRecorder, monitor: ServiceMonitor,
         mqtt: MQTTPublisher?, worker: AnalysisWorker, statusInterval: Double) {
        self.mqtt = mqtt
        self.worker = worker
        self.pipeline = pipeline
        self.broadcaster = broadcaster
        self.recorder = recorder
        self.monitor = monitor
        self.statusInterval = statusInterval
    }

    /// How the stream ended, once it has.
    var result: LivePipeline.Outcome? { outcome.withLock { $0 } }

    func run() async throws {
        let pipeline = pipeline, broadcaster = broadcaster, recorder = recorder, monitor = monitor, mqtt = mqtt
        let statusInterval = statusInterval
        broadcaster.start()
        recorder.start { pipeline.fail($0) }
        try mqtt?.start()
        pipeline.start()
        // Cancelled rather than shut down gracefully (the server could not bind its port, say): stop
        // the pipeline too, or its blocking wait would hold the whole group — and the process — up.
        let ended = try await withTaskCancellationHandler {
            try await runUntilShutdown(pipeline: pipeline, broadcaster: broadcaster, monitor: monitor, statusInterval: statusInterval)
        } onCancel: { [worker] in
            worker.stop()
            pipeline.stop()
        }
        outcome.withLock { $0 = ended }
        // The final events are published; record and print them, hand them on, let the clients go.
        try await offPool { [worker] in
            recorder.wait()
            broadcaster.finish(timeout: 1.0)
            mqtt?.stop(timeout: 0.4)
            // An upload's analysis gives up between windows once stopped; let it reach that point.
            worker.waitUntilIdle(timeout: 1.0)
        }
        // Give the sockets a moment to flush their last events and the close frame.
        for _ in 0..<20 where broadcaster.clientCount > 0 { try? await Task.sleep(for: .milliseconds(25)) }
    }

    /// The status ticker, the monitor and the pipeline until the stream ends or a graceful shutdown stops it.
    private func runUntilShutdown(pipeline: LivePipeline, broadcaster: LiveBroadcaster, monitor: ServiceMonitor,
                                  statusInterval: Double) async throws -> LivePipeline.Outcome {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: LivePipeline.Outcome?.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(statusInterval))
                        broadcaster.tick()
                    }
                    return nil
                }
                group.addTask {
                    await monitor.run()
                    return nil
                }
                group.addTask { try await offPool { pipeline.wait() } }
                var ended: LivePipeline.Outcome?
                for try await result in group where result != nil {
                    ended = result
                    group.cancelAll()
                }
                return ended ?? .stopped
            }
        } onGracefulShutdown: { [worker] in
            monitor.notifier.stopping()
            worker.stop()
            pipeline.stop()
        }
    }
}
