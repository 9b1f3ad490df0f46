import Foundation
import HarkCapture
import HarkClassifier
import HarkConfig
import HarkFleet
import HarkEngine
import HarkHistory
import HarkStream
import Hummingbird
import NIOCore

/// `GET /v1/model`, `GET /v1/devices`, `GET /v1/status`: what the service runs and how it is doing.
struct InfoController: Sendable {
    let model: ModelEnsemble
    let modelDescription: ModelDescription
    let pipeline: LivePipeline
    let broadcaster: LiveBroadcaster
    let worker: AnalysisWorker
    let monitor: ServiceMonitor
    let metrics: ServiceMetrics
    let mqtt: MQTTPublisher?
    let source: String
    let startedAt: Date
    let version: String

    struct ModelDescription: Encodable, Sendable {
        struct Layer: Encodable, Sendable {
            var name: String
            var shape: [Int]
            var description: String?
        }
        struct Member: Encodable, Sendable {
            var name: String
            var sampleRate: Int
            var mels: Int
            var frames: Int
            var crops: ModelCard.Crops?
            enum CodingKeys: String, CodingKey { case name, sampleRate = "sample_rate", mels, frames, crops }
        }
        var name: String
        var description: String?
        var sampleRate: Int
        var windowSeconds: Double
        var labels: [ModelCard.Label]
        var mapsMember: String
        var layers: [Layer]
        var members: [Member]
        var evaluation: ModelCard.Evaluation?
        var license: ModelCard.License?
        enum CodingKeys: String, CodingKey {
            case name, description, sampleRate = "sample_rate", windowSeconds = "window_seconds", labels
            case mapsMember = "maps_member", layers, members, evaluation, license
        }
    }

    /// The model as clients see it; layer shapes from one pass over a silent window (at start-up).
    static func describe(_ classifier: Classifier) throws -> ModelDescription {
        let model = classifier.model
        let maps = try classifier.classify(window: [Float](repeating: 0, count: classifier.windowSamples),
                                           taps: Set(classifier.exposedLayers)).featureMaps
        let member = model.members[classifier.mapsMember]
        let layers = member.card.layers.compactMap { layer -> ModelDescription.Layer? in
            guard let shape = maps[layer.name]?.shape else { return nil }
            return .init(name: layer.name, shape: [shape.channels, shape.height, shape.width], description: layer.description)
        }
        let members = model.members.map { m in
            ModelDescription.Member(name: m.card.name, sampleRate: m.card.frontend.logMel.sampleRate, mels: m.card.frontend.logMel.nMels,
                                    frames: m.card.frontend.logMel.frames, crops: m.card.crops)
        }
        return ModelDescription(name: model.name, description: model.card?.description ?? model.primary.card.description,
                                sampleRate: model.sampleRate, windowSeconds: model.windowSeconds, labels: model.labels,
                                mapsMember: member.card.name, layers: layers, members: members,
                                evaluation: model.card?.evaluation ?? model.primary.card.evaluation,
                                license: model.card?.license ?? model.primary.card.license)
    }

    func modelInfo(_ request: Request, _ context: HarkRequestContext) throws -> Response {
        try JSONResponse.make(modelDescription)
    }

    func devices(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let listing = try await offPool { DeviceCatalog.list() }   // talks to PulseAudio and ALSA: blocking
        return try JSONResponse.make(listing)
    }

    struct Status: Encodable, Sendable {
        var version: String
        var model: String
        var source: String
        var startedAt: String
        var uptimeSeconds: Double
        var summary: RunSummary
        var live: LiveBroadcaster.Report
        var uploadsWaiting: Int
        /// The MQTT publisher's counters, when one runs.
        var mqtt: MQTTPublisher.Counters?
        var history: HistoryRecorder.Health
        enum CodingKeys: String, CodingKey {
            case version, model, source, startedAt = "started_at", uptimeSeconds = "uptime_seconds", summary, live
            case uploadsWaiting = "uploads_waiting", mqtt, history
        }
    }

    func status(_ request: Request, _ context: HarkRequestContext) throws -> Response {
        try JSONResponse.make(Status(version: version, model: model.name, source: source,
                                     startedAt: startedAt.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
                                     uptimeSeconds: (Date().timeIntervalSince(startedAt) * 10).rounded() / 10,
                                     summary: pipeline.summary, live: broadcaster.report, uploadsWaiting: worker.waiting,
                                     mqtt: mqtt?.counters, history: monitor.recorder.health))
    }

    /// `GET /health`: 200 when audio arrived lately, the pipeline runs and the database takes
    /// writes (a probe, and the history's last write); else 503 naming the failing checks. Open to all, so it says nothing more.
    func health(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let failing = try await offPool { [monitor] in monitor.failingChecks() }
        struct Health: Encodable { var status: String; var failing: [String] }
        return try JSONResponse.make(Health(status: failing.isEmpty ? "ok" : "failing", failing: failing.map(\.rawValue)),
                                     status: failing.isEmpty ? .ok : .serviceUnavailable)
    }

    /// `GET /metrics`: Prometheus text exposition format 0.0.4.
    func prometheus(_ request: Request, _ context: HarkRequestContext) throws -> Response {
        let text = metrics.scrape(summary: pipeline.summary, live: broadcaster.report,
                                  droppedTelemetryTotal: broadcaster.droppedTelemetryTotal,
                                  secondsSinceAudio: monitor.secondsSinceAudio, mqtt: mqtt?.counters, history: monitor.recorder.health)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
