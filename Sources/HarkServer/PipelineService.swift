import Foundation
import HarkConfig
import HarkStream
import Logging
import ServiceLifecycle
import Synchronization

/// The live pipeline as a `Service`: starts it with its subscribers (the live-socket fan-out, and
/// JSON lines on stdout when there is a writer), runs the status ticker, and on graceful shutdown
/// stops the pipeline — open events end and are delivered — then asks every live client to close
/// ("going away") once its events are out. Its run returns when the stream is over, which shuts
/// the whole group down. The blocking pipeline stays on its own threads.
final class PipelineService: Service, Sendable {
    private let pipeline: LivePipeline
    private let broadcaster: LiveBroadcaster
    private let writer: JSONLinesWriter?
    private let statusInterval: Double
    private let outcome = Mutex<LivePipeline.Outcome?>(nil)

    init(pipeline: LivePipeline, broadcaster: LiveBroadcaster, writer: JSONLinesWriter?, statusInterval: Double) {
        self.pipeline = pipeline
        self.broadcaster = broadcaster
        self.writer = writer
        self.statusInterval = statusInterval
    }

    /// How the stream ended, once it has.
    var result: LivePipeline.Outcome? { outcome.withLock { $0 } }

    func run() async throws {
        let pipeline = pipeline, broadcaster = broadcaster, writer = writer, statusInterval = statusInterval
        broadcaster.start()
        writer?.start { pipeline.fail($0) }
        pipeline.start()
        let ended = try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: LivePipeline.Outcome?.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(statusInterval))
                        broadcaster.tick()
                    }
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
        } onGracefulShutdown: {
            pipeline.stop()
        }
        outcome.withLock { $0 = ended }
        // The final events are published; hand them on and let the clients go.
        try await offPool {
            broadcaster.finish(timeout: 1.0)
            writer?.wait()
        }
        // Give the sockets a moment to flush their last events and the close frame.
        for _ in 0..<20 where broadcaster.clientCount > 0 { try? await Task.sleep(for: .milliseconds(25)) }
    }
}
