import Foundation
import HarkClassifier
import HarkConfig
import HarkStream
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// `hark serve`: the live pipeline and a Hummingbird server as services of one `ServiceGroup`.
/// Built by one function for the command and the tests alike (Hummingbird's `buildApplication`).
public enum ServeApplication {
    /// What `hark serve` runs, ready to `run()`.
    public struct Built: Sendable {
        let group: ServiceGroup
        let pipelineService: PipelineService
        /// Uploads are decoded from here; removed when the service ends.
        let uploads: URL

        /// Runs until SIGTERM/SIGINT (when the group was built to handle them) or the end of the
        /// stream, and returns how the stream ended.
        public func run() async throws -> LivePipeline.Outcome {
            defer { try? FileManager.default.removeItem(at: uploads) }
            try await group.run()
            return pipelineService.result ?? .stopped
        }

        /// Starts a graceful shutdown, as SIGTERM does.
        public func shutdown() async { await group.triggerGracefulShutdown() }
    }

    /// Builds the server over `run` (its pipeline not yet started). `stdout` writes JSON lines as
    /// `hark listen` would; `listening` is told the bound port once the server accepts connections.
    public static func build(_ run: LiveRun, settings: ServeSettings, stdout: JSONLinesWriter?, version: String,
                             logger: Logger, handlesSignals: Bool = true,
                             listening: @escaping @Sendable (Int) -> Void = { _ in }) async throws -> Built {
        let pipeline = run.pipeline
        let broadcaster = LiveBroadcaster(pipeline: pipeline, modelName: run.model.name, settings: settings, logger: logger)
        let worker = try AnalysisWorker(model: run.model, mapsMember: settings.mapsMember, queueLimit: settings.uploadQueue)
        let description = try await worker.perform { try InfoController.describe($0) }
        let uploads = FileManager.default.temporaryDirectory.appendingPathComponent("hark-uploads-\(getpid())")
        try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])

        let liveSocket = LiveSocketController(broadcaster: broadcaster, settings: settings)
        let classify = ClassifyController(worker: worker, settings: settings, uploads: uploads)
        let info = InfoController(model: run.model, modelDescription: description, pipeline: pipeline, broadcaster: broadcaster,
                                  worker: worker, source: run.source.description, startedAt: Date(), version: version)

        let router = Router(context: HarkRequestContext.self)
        router.get("/v1/live", use: liveSocket.refused)
        router.post("/v1/classify", use: classify.classify)
        router.get("/v1/model", use: info.modelInfo)
        router.get("/v1/devices", use: info.devices)
        router.get("/v1/status", use: info.status)

        let webSocketRouter = Router(context: HarkRequestContext.self)
        webSocketRouter.ws("/v1/live", shouldUpgrade: liveSocket.shouldUpgrade) { inbound, outbound, context in
            try await liveSocket.handle(inbound: inbound, outbound: outbound, context: context)
        }

        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: webSocketRouter,
                configuration: .init(http1: .init(), ws: .init(maxFrameSize: settings.maxInboundMessageBytes,
                                                               autoPing: .enabled(timePeriod: .seconds(settings.heartbeatSeconds)),
                                                               closeTimeout: .seconds(1)))),
            configuration: .init(address: .hostname(settings.bind, port: settings.port), serverName: "hark/\(version)"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                logger.notice("hark serve: listening on http://\(settings.bind):\(port)")
                listening(port)
            },
            logger: logger)

        let pipelineService = PipelineService(pipeline: pipeline, broadcaster: broadcaster, writer: stdout,
                                              statusInterval: settings.statusIntervalSeconds)
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(service: app),
                // The stream's end (a file, a failure) ends the service; the server goes with it.
                .init(service: pipelineService, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: handlesSignals ? [.sigterm, .sigint] : [], logger: logger)
        // Services shut down in reverse order: the pipeline first (its events out, clients told),
        // then the server. Whatever still runs after this long is cancelled.
        configuration.maximumGracefulShutdownDuration = Duration.milliseconds(1800)
        return Built(group: ServiceGroup(configuration: configuration), pipelineService: pipelineService, uploads: uploads)
    }
}
