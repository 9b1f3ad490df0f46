import Foundation
import GRDB

/// One event as the history keeps it: the event object's fields at its latest line, the run it
/// belongs to, when it started and ended (wall time) and its audio clip.
public struct StoredEvent: Codable, Sendable, FetchableRecord, Equatable {
    public var seq: Int64
    public var id: String
    public var runID: Int64
    public var phase: String
    public var label: String
    public var emoji: String
    public var classIndex: Int
    public var score: Double
    public var peakScore: Double
    public var meanScore: Double
    public var start: Double
    public var end: Double?
    public var duration: Double?
    public var streamTime: Double
    public var wallTime: String
    public var windows: Int
    public var startedAt: String
    public var endedAt: String?
    public var audioFile: String?
    public var audioSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case seq, id, runID = "run_id", phase, label, emoji, classIndex = "class_index", score, peakScore = "peak_score"
        case meanScore = "mean_score", start, end, duration, streamTime = "stream_time", wallTime = "wall_time", windows
        case startedAt = "started_at", endedAt = "ended_at", audioFile = "audio_file", audioSeconds = "audio_seconds"
    }
}

/// One analysed upload: what came back, not the maps (recomputed from the kept file on demand).
public struct StoredAnalysis: Codable, Sendable, FetchableRecord, PersistableRecord, Equatable {
    public static let databaseTableName = "analysis"

    public var id: String
    public var createdAt: String
    public var filename: String?
    public var sizeBytes: Int
    public var duration: Double
    public var sampleRate: Int
    public var model: String
    /// JSON: the top-3 predictions.
    public var top: String
    /// JSON: every window's top-3, for files longer than one window.
    public var windows: String
    /// The upload as received, relative to the state directory.
    public var audioFile: String?

    public init(id: String, createdAt: String, filename: String?, sizeBytes: Int, duration: Double, sampleRate: Int,
                model: String, top: String, windows: String, audioFile: String?) {
        self.id = id
        self.createdAt = createdAt
        self.filename = filename
        self.sizeBytes = sizeBytes
        self.duration = duration
        self.sampleRate = sampleRate
        self.model = model
        self.top = top
        self.windows = windows
        self.audioFile = audioFile
    }

    enum CodingKeys: String, CodingKey {
        case id, createdAt = "created_at", filename, sizeBytes = "size_bytes", duration, sampleRate = "sample_rate", model, top
        case windows, audioFile = "audio_file"
    }
}
