import Foundation
import HarkClassifier
import HarkEngine
import HarkLiveProtocol
import HarkStream
import NIOCore

/// The live socket's server → client messages (docs/live-socket.md; frozen by
/// docs/live-socket.schema.json and a contract test). `event` is the stdout event object itself.
enum LiveSocketWire {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// One message, encoded (control messages; the hot paths keep an encoder of their own).
    static func frame(_ value: some Encodable, encoder: JSONEncoder = encoder()) -> ByteBuffer {
        ByteBuffer(bytes: (try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    struct Hello: Encodable {
        var type = "hello"
        var version = 1
        var clientID: Int
        var model: String
        var sampleRate: Int
        var windowSeconds: Double
        var hopSeconds: Double
        var labels: [ModelCard.Label]
        var layers: [String]
        var subscription: LiveSubscriptionRequest.Echo
        enum CodingKeys: String, CodingKey {
            case type, version, clientID = "client_id", model, sampleRate = "sample_rate", windowSeconds = "window_seconds"
            case hopSeconds = "hop_seconds", labels, layers, subscription
        }
    }

    /// The reply to a `subscribe` message: what is now in force.
    struct Subscribed: Encodable {
        var type = "subscribed"
        var subscription: LiveSubscriptionRequest.Echo
    }

    /// A message the server could not act on; the connection stays open.
    struct Failure: Encodable {
        var type = "error"
        var message: String
    }

    struct Window: Encodable {
        var type = "window"
        var sequence: Int
        var start: Double
        var end: Double
        var wallTime: String
        var capturedAt: Double
        var latencyMilliseconds: Double
        var rmsDBFS: Double?
        var gated: Bool
        var droppedBefore: Int
        var top: [ScoredLabel]
        enum CodingKeys: String, CodingKey {
            case type, sequence, start, end, wallTime = "wall_time", capturedAt = "captured_at", latencyMilliseconds = "latency_ms"
            case rmsDBFS = "rms_dbfs", gated, droppedBefore = "dropped_before", top
        }

        init(_ r: WindowResult) {
            sequence = r.sequence
            start = r.start.rounded3
            end = r.end.rounded3
            wallTime = r.wallTime
            capturedAt = r.capturedAt.rounded3
            latencyMilliseconds = (r.latencyMilliseconds * 100).rounded() / 100
            rmsDBFS = r.rmsDBFS.isFinite ? (r.rmsDBFS * 10).rounded() / 10 : nil
            gated = r.gated
            droppedBefore = r.droppedBefore
            top = r.top.map { ScoredLabel(index: $0.index, label: $0.label, emoji: $0.emoji, score: $0.score.rounded4) }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(sequence, forKey: .sequence)
            try c.encode(start, forKey: .start)
            try c.encode(end, forKey: .end)
            try c.encode(wallTime, forKey: .wallTime)
            try c.encode(capturedAt, forKey: .capturedAt)
            try c.encode(latencyMilliseconds, forKey: .latencyMilliseconds)
            try c.encode(rmsDBFS, forKey: .rmsDBFS)   // null: digital silence
            try c.encode(gated, forKey: .gated)
            try c.encode(droppedBefore, forKey: .droppedBefore)
            try c.encode(top, forKey: .top)
        }
    }

    /// Log-mel columns as 8-bit values: `data` is base64 of `mels × frames` bytes, row-major with
    /// the lowest mel band first; a byte b is `db_min + b / 255 · (db_max − db_min)` dB.
    struct Spectrogram: Encodable {
        var type = "spectrogram"
        var sequence: Int
        var start: Double
        var end: Double
        var mels: Int
        var frames: Int
        var frameSeconds: Double
        var dbMin: Float
        var dbMax: Float
        var encoding = ByteGrid.encoding
        var data: String
        enum CodingKeys: String, CodingKey {
            case type, sequence, start, end, mels, frames, frameSeconds = "frame_seconds", dbMin = "db_min", dbMax = "db_max"
            case encoding, data
        }
    }

    /// A min/max envelope of the audio the hop added: `points` pairs over [start, end].
    struct Waveform: Encodable {
        var type = "waveform"
        var sequence: Int
        var start: Double
        var end: Double
        var points: Int
        var min: [Float]
        var max: [Float]
    }

    /// Per layer, the mean over channels as 8-bit values (`height × width`, row-major; a byte b
    /// is `min + b / 255 · (max − min)`), with the layer's full shape `[channels, height, width]`.
    struct LayerMap: Encodable {
        var name: String
        var shape: [Int]
        var height: Int
        var width: Int
        var min: Float
        var max: Float
        var encoding = ByteGrid.encoding
        var data: String
    }

    struct Status: Encodable {
        var type = "status"
        var wallTime: String
        var capture: CaptureState
        var counters: RunSummary
        var server: ServerCounters
        var client: LiveClient.Counters
        /// The pipeline's status line that prompted this message (the stdout status object), if any.
        var notice: StatusMessage?
        enum CodingKeys: String, CodingKey { case type, wallTime = "wall_time", capture, counters, server, client, notice }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(wallTime, forKey: .wallTime)
            try c.encode(capture, forKey: .capture)
            try c.encode(counters, forKey: .counters)
            try c.encode(server, forKey: .server)
            try c.encode(client, forKey: .client)
            try c.encode(notice, forKey: .notice)
        }
    }

    struct CaptureState: Encodable, Sendable {
        /// starting, running, lost, ended
        var state: String
        var source: String?
        var sampleRate: Int?
        enum CodingKeys: String, CodingKey { case state, source, sampleRate = "sample_rate" }
    }

    struct ServerCounters: Encodable, Sendable {
        var clients: Int
        var clientsClosedSlow: Int
        /// Windows the fan-out itself skipped because it fell behind (telemetry only).
        var windowsSkipped: Int
        enum CodingKeys: String, CodingKey {
            case clients, clientsClosedSlow = "clients_closed_slow", windowsSkipped = "windows_skipped"
        }
    }
}

/// Values quantized to bytes between their own min and max, base64-encoded.
enum ByteGrid {
    static let encoding = "u8-base64"

    static func encode(_ values: [Float]) -> (min: Float, max: Float, data: String) {
        let finite = values.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 0
        let scale = hi > lo ? 255 / (hi - lo) : 0
        let bytes = values.map { v -> UInt8 in
            guard v.isFinite else { return 0 }
            return UInt8(Swift.max(0, Swift.min(255, ((v - lo) * scale).rounded())))
        }
        return (lo, hi, Data(bytes).base64EncodedString())
    }
}
