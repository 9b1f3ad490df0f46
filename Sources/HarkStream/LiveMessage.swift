import Foundation
import HarkClassifier

/// Everything `hark listen` prints, one JSON object per line. The schema is frozen in
/// docs/listen-output.schema.json and checked by a contract test; change both together.
public enum LiveMessage: Sendable, Encodable {
    case event(EventMessage)
    case window(WindowMessage)
    case status(StatusMessage)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .event(let m): try m.encode(to: encoder)
        case .window(let m): try m.encode(to: encoder)
        case .status(let m): try m.encode(to: encoder)
        }
    }
}

/// A sound event's `start`, `update` or `end`. Events are never dropped.
public struct EventMessage: Sendable, Encodable, Equatable {
    public var type = "event"
    public var phase: DetectedEvent.Phase
    public var id: String
    public var label: String
    public var emoji: String
    public var classIndex: Int
    public var score: Float
    public var peakScore: Float
    public var meanScore: Float
    /// Stream seconds (from the start of capture).
    public var start: Double
    public var end: Double?
    public var duration: Double?
    public var streamTime: Double
    public var wallTime: String
    public var windows: Int

    enum CodingKeys: String, CodingKey {
        case type, phase, id, label, emoji, classIndex = "class_index", score, peakScore = "peak_score"
        case meanScore = "mean_score", start, end, duration, streamTime = "stream_time", wallTime = "wall_time", windows
    }

    public init(_ e: DetectedEvent, emoji: String, wallTime: String) {
        phase = e.phase
        id = e.id
        label = e.label
        self.emoji = emoji
        classIndex = e.classIndex
        score = e.score
        peakScore = e.peakScore
        meanScore = e.meanScore
        start = e.start
        end = e.end
        duration = e.end.map { $0 - e.start }
        streamTime = e.streamTime
        self.wallTime = wallTime
        windows = e.windows
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(phase, forKey: .phase)
        try c.encode(id, forKey: .id)
        try c.encode(label, forKey: .label)
        try c.encode(emoji, forKey: .emoji)
        try c.encode(classIndex, forKey: .classIndex)
        try c.encode(score.rounded4, forKey: .score)
        try c.encode(peakScore.rounded4, forKey: .peakScore)
        try c.encode(meanScore.rounded4, forKey: .meanScore)
        try c.encode(start.rounded3, forKey: .start)
        try c.encode(end?.rounded3, forKey: .end)   // null until the event ends
        try c.encode(duration?.rounded3, forKey: .duration)
        try c.encode(streamTime.rounded3, forKey: .streamTime)
        try c.encode(wallTime, forKey: .wallTime)
        try c.encode(windows, forKey: .windows)
    }
}

/// One classified window (`--emit windows`): lossy telemetry.
public struct WindowMessage: Sendable, Encodable {
    public var type = "window"
    public var start: Double
    public var end: Double
    public var wallTime: String
    public var rmsDBFS: Double?
    public var gated: Bool
    public var top: [ScoredLabel]
    /// From the capture of the window's last sample to the result's publication.
    public var latencyMilliseconds: Double
    /// Every class's detection score, by class index (`--emit scores`; absent otherwise, null when gated).
    public var detectionScores: [Float]??

    enum CodingKeys: String, CodingKey {
        case type, start, end, wallTime = "wall_time", rmsDBFS = "rms_dbfs", gated, top, latencyMilliseconds = "latency_ms"
        case detectionScores = "detection_scores"
    }

    public init(_ result: WindowResult, withScores: Bool = false) {
        start = result.start
        end = result.end
        wallTime = result.wallTime
        rmsDBFS = result.rmsDBFS
        gated = result.gated
        top = result.top
        latencyMilliseconds = result.latencyMilliseconds
        detectionScores = withScores ? .some(result.detectionScores) : .none
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(start.rounded3, forKey: .start)
        try c.encode(end.rounded3, forKey: .end)
        try c.encode(wallTime, forKey: .wallTime)
        try c.encode(rmsDBFS.flatMap { $0.isFinite ? ($0 * 10).rounded() / 10 : nil }, forKey: .rmsDBFS)  // null: silence
        try c.encode(gated, forKey: .gated)
        try c.encode(top.map { ScoredLabel(index: $0.index, label: $0.label, emoji: $0.emoji, score: $0.score.rounded4) }, forKey: .top)
        try c.encode((latencyMilliseconds * 100).rounded() / 100, forKey: .latencyMilliseconds)
        if let scores = detectionScores { try c.encode(scores.map { $0.map(\.rounded4) }, forKey: .detectionScores) }
    }
}

/// Health of the stream: capture started/lost/recovered, windows dropped, overruns, the end.
public struct StatusMessage: Sendable, Encodable, Equatable {
    public enum Kind: String, Sendable, Encodable {
        case captureStarted = "capture_started"
        case captureLost = "capture_lost"
        case captureRecovered = "capture_recovered"
        case windowsDropped = "windows_dropped"
        case overruns
        case streamEnded = "stream_ended"
        case stopped
        /// The MQTT publisher connected to its broker, lost it, or had to drop from its outbox.
        case mqttConnected = "mqtt_connected"
        case mqttLost = "mqtt_lost"
        case mqttDropped = "mqtt_dropped"
    }

    public var type = "status"
    public var status: Kind
    public var wallTime: String
    public var message: String
    public var source: String?
    public var sampleRate: Int?
    public var channels: Int?
    /// New occurrences since the previous status of this kind, and the running total.
    public var count: Int?
    public var total: Int?
    public var retryInSeconds: Double?
    public var summary: RunSummary?

    enum CodingKeys: String, CodingKey {
        case type, status, wallTime = "wall_time", message, source, sampleRate = "sample_rate", channels, count, total
        case retryInSeconds = "retry_in_seconds", summary
    }

    public init(_ status: Kind, wallTime: String, message: String, source: String? = nil, sampleRate: Int? = nil,
                channels: Int? = nil, count: Int? = nil, total: Int? = nil, retryInSeconds: Double? = nil,
                summary: RunSummary? = nil) {
        self.status = status
        self.wallTime = wallTime
        self.message = message
        self.source = source
        self.sampleRate = sampleRate
        self.channels = channels
        self.count = count
        self.total = total
        self.retryInSeconds = retryInSeconds
        self.summary = summary
    }
}

/// Counters of a whole run, reported when it stops.
public struct RunSummary: Sendable, Encodable, Equatable {
    public var streamSeconds: Double
    public var windowsClassified: Int
    public var windowsGated: Int
    public var windowsDropped: Int
    public var windowsOverwritten: Int
    public var overruns: Int
    public var captureLosses: Int
    public var events: Int
    public var latencyP50Milliseconds: Double?
    public var latencyP99Milliseconds: Double?

    enum CodingKeys: String, CodingKey {
        case streamSeconds = "stream_seconds", windowsClassified = "windows_classified", windowsGated = "windows_gated"
        case windowsDropped = "windows_dropped", windowsOverwritten = "windows_overwritten", overruns
        case captureLosses = "capture_losses", events, latencyP50Milliseconds = "latency_p50_ms"
        case latencyP99Milliseconds = "latency_p99_ms"
    }
}

extension Float {
    public var rounded4: Float { (self * 10000).rounded() / 10000 }
}

extension Double {
    public var rounded3: Double { (self * 1000).rounded() / 1000 }
}

/// Wall-clock timestamps: ISO 8601, UTC, milliseconds.
public enum WallClock {
    public static func now() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
