import Foundation
import HarkClassifier
import HarkConfig
import HarkFleet
import HarkHistory
import HarkStream
import Hummingbird
import HummingbirdCore
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
        let uploads: UploadFolder
        /// `host:port` as configured, for the error when it cannot be bound.
        let address: String

        /// Runs until SIGTERM/SIGINT (when the group was built to handle them) or the end of the
        /// stream, and returns how the stream ended. A socket error from the server (the port is
        /// taken, say) ends the pipeline with it and is thrown as `CannotListen`.
        public func run() async throws -> LivePipeline.Outcome {
            defer { uploads.remove() }
            do {
                try await group.run()
            } catch let error as IOError {
                throw CannotListen(description: "cannot listen on \(address): \(error.description)")
            }
            return pipelineService.result ?? .stopped
        }

        /// Starts a graceful shutdown, as SIGTERM does.
        public func shutdown() async { await group.triggerGracefulShutdown() }
    }

    public struct CannotListen: Error, CustomStringConvertible {
        public var description: String
    }

    /// Builds the server over `run` (its pipeline not yet started). `stdout` gets every line
    /// `hark listen` would print, each event once it is in the history.
    public static func build(_ run: LiveRun, settings: ServerSettings, stdout: JSONLinesOutput?, version: String,
                             logger: Logger, handlesSignals: Bool = true) async throws -> Built {
        let pipeline = run.pipeline
        let store = try HistoryStore(directory: settings.resolvedStateDirectory(), logger: logger)
        logger.notice("hark serve: history in \(store.path)")
        // Subscribers in the order the hub offers to them: the live clients and the metrics before the
        // history, whose disk writes (and stdout behind them) may make the publisher wait.
        let broadcaster = LiveBroadcaster(pipeline: pipeline, modelName: run.model.name, settings: settings, logger: logger)
        let metrics = ServiceMetrics()
        metrics.follow(pipeline)
        let mqtt = try MQTTPublisher.forRun(run, version: version)
        var downstream: (@Sendable (LiveOutput) throws -> Void)?
        if let stdout { downstream = { @Sendable item in try stdout.write(item) } }
        let recorder = HistoryRecorder(
            store: store, pipeline: pipeline,
            settings: .init(source: run.source.description, model: run.model.name, version: version,
                            eventAudio: settings.eventAudio, maxAudioSeconds: settings.eventAudioMaxSeconds),
            logger: logger, capacity: run.settings.maxOutputBacklog,
            downstream: downstream, wrote: { @Sendable seconds in metrics.historyWrote(seconds: seconds) })
        let worker = try AnalysisWorker(model: run.model, mapsMember: settings.mapsMember, queueLimit: settings.uploadQueue)
        let description = try await worker.perform { try InfoController.describe($0) }
        let (uploads, swept) = try UploadFolder.create()
        if swept > 0 {
            logger.notice("hark serve: removed \(swept) upload folder(s) left by hark serve processes that no longer run")
        }
        let gatekeeper = Gatekeeper(settings: settings)
        let monitor = ServiceMonitor(pipeline: pipeline, store: store, recorder: recorder, settings: settings, notifier: SystemdNotifier(), logger: logger)

        let liveSocket = LiveSocketController(broadcaster: broadcaster, settings: settings, gatekeeper: gatekeeper)
        let classify = ClassifyController(worker: worker, settings: settings, uploads: uploads.url, store: store, metrics: metrics)
        let info = InfoController(model: run.model, modelDescription: description, pipeline: pipeline, broadcaster: broadcaster,
                                  worker: worker, monitor: monitor, metrics: metrics, mqtt: mqtt, source: run.source.description,
                                  startedAt: Date(), version: version)
        let history = HistoryController(store: store) { path, filename in
            try await worker.perform { classifier in
                try FileAnalysis.analyse(path: path, displayName: filename ?? "the upload", filename: filename,
                                         classifier: classifier, hopSeconds: 1.0, windowIndex: nil,
                                         maxSeconds: settings.maxUploadSeconds, shouldStop: { worker.isStopped })
            }
        }
        let sessions = SessionController(gatekeeper: gatekeeper)

        let router = Router(context: HarkRequestContext.self)
        // The dashboard (static files, revalidated by ETag): open, it holds no data; the API asks it for a token.
        if let dashboard = BundledFiles.dashboard {
            router.add(middleware: FileMiddleware(dashboard, cacheControl: .init([(MediaType(type: .any), [.noCache])]),
                                                  searchForIndexHtml: true, logger: logger))
        } else {
            logger.warning("hark serve: the dashboard's files (Dashboard/) were not found; / serves nothing")
        }
        // Open: the health check (no details), logging in and out.
        router.get("/health", use: info.health)
        router.get("/v1/session", use: sessions.state)
        router.post("/v1/session", use: sessions.login)
        router.delete("/v1/session", use: sessions.logout)
        // Everything else needs a token when tokens are configured.
        let api = router.group().add(middleware: AuthMiddleware(gatekeeper: gatekeeper))
        api.get("/metrics", use: info.prometheus)
        api.get("/v1/live", use: liveSocket.refused)
        api.post("/v1/classify", use: classify.classify)
        api.get("/v1/model", use: info.modelInfo)
        api.get("/v1/devices", use: info.devices)
        api.get("/v1/status", use: info.status)
        api.get("/v1/events", use: history.events)
        api.get("/v1/events/:id", use: history.event)
        api.get("/v1/events/:id/audio", use: history.audio)
        api.get("/v1/analyses", use: history.analyses)
        api.get("/v1/analyses/:id", use: history.analysis)
        api.delete("/v1/analyses/:id", use: history.deleteAnalysis)

        let webSocketRouter = Router(context: HarkRequestContext.self)
        webSocketRouter.ws("/v1/live", shouldUpgrade: liveSocket.shouldUpgrade) { inbound, outbound, context in
            try await liveSocket.handle(inbound: inbound, outbound: outbound, context: context)
        }

        let app = Application(
            router: router,
            server: serverBuilder(webSocketRouter: webSocketRouter, settings: settings),
            configuration: .init(address: .hostname(settings.bind, port: settings.port), serverName: "hark/\(version)"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                logger.notice("hark serve: listening on http://\(settings.bind):\(port)")
                monitor.listening(on: port)
            },
            logger: logger)

        let pipelineService = PipelineService(pipeline: pipeline, broadcaster: broadcaster, recorder: recorder, monitor: monitor,
                                              mqtt: mqtt, worker: worker, statusInterval: settings.statusIntervalSeconds)
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
        return Built(group: ServiceGroup(configuration: configuration), pipelineService: pipelineService, uploads: uploads,
                     address: "\(settings.bind):\(settings.port)")
    }

    /// HTTP/1.1 with the live socket's upgrade, Hummingbird's idle timeout and, ahead of both, a
    /// deadline for each connection's first request head (`HeadDeadlineChannel`), all at
    /// `request_timeout_seconds`.
    static func serverBuilder(webSocketRouter: Router<HarkRequestContext>, settings: ServerSettings) -> HTTPServerBuilder {
        let timeout = TimeAmount.nanoseconds(Int64(settings.requestTimeoutSeconds * 1e9))
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: timeout),
            ws: .init(maxFrameSize: settings.maxInboundMessageBytes, autoPing: .enabled(timePeriod: .seconds(settings.heartbeatSeconds)),
                      closeTimeout: .seconds(1)))
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            HeadDeadlineChannel(inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                                    configuration: configuration),
                                deadline: timeout)
        }
    }
}
