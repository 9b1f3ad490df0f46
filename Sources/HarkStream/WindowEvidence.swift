import HarkClassifier

/// What the event detector is given for one window: its place in the stream, the model's
/// probabilities, the crops that lie inside it and its energy envelope, and the per-class detection
/// scores computed once from them by the configured rule (also published with `--emit scores`).
public struct WindowEvidence: Sendable {
    /// Stream seconds.
    public var start: Double
    public var end: Double
    /// The classification's probabilities (the mean over crops); nil for a gated window.
    public var probabilities: [Float]?
    /// Crops placed in stream seconds, each with its own probabilities.
    public var crops: [CropScore]
    public var envelope: EnergyEnvelope?
    /// Per class, what the detector compares with its thresholds; nil for a gated window.
    public let scores: [Float]?

    public init(start: Double, end: Double, probabilities: [Float]?, crops: [CropScore] = [],
                envelope: EnergyEnvelope? = nil, rule: DetectionScore = .window) {
        self.start = start
        self.end = end
        self.probabilities = probabilities
        self.crops = crops
        self.envelope = envelope
        scores = probabilities.map { Self.scores($0, crops: crops, rule: rule) }
    }

    static func scores(_ probabilities: [Float], crops: [CropScore], rule: DetectionScore) -> [Float] {
        guard rule == .strongestCrop, !crops.isEmpty else { return probabilities }
        return probabilities.indices.map { c in crops.map { $0.probabilities[c] }.max() ?? probabilities[c] }
    }

    /// Where class `c`'s evidence at or above `threshold` begins: in the earliest crop that reached
    /// it and holds a sound louder than `floor` (placed by the envelope, past the sounds that other
    /// classes' open events heard over `otherSounds`); else that earliest crop's start; the window's
    /// start when no crop reached it (or there are none).
    func onset(of c: Int, threshold: Float, floor: Double, otherSounds: [CropSpan] = []) -> Double {
        let reached = crops.filter { $0.probabilities[c] >= threshold }
        guard let earliest = reached.first else { return start }
        let placed = reached.lazy.compactMap {
            SoundBoundaries.onset(crop: CropSpan(start: $0.start, end: $0.end), envelope: self.envelope, floor: floor,
                                  heardWithout: otherSounds)
        }.first
        return max(start, placed ?? earliest.start)
    }

    /// Where class `c`'s evidence at or above `threshold` ends: in the latest crop that reached it
    /// and holds a sound louder than `floor` (`placed`, short of the sounds that later crops scoring
    /// below `threshold` heard); else the latest such crop's end, not placed; the window's end when
    /// no crop reached it (or there are none).
    func offset(of c: Int, threshold: Float, floor: Double) -> (time: Double, placed: Bool) {
        let reached = crops.filter { $0.probabilities[c] >= threshold }
        guard let latest = reached.last else { return (end, crops.isEmpty) }
        let absent = crops.filter { $0.probabilities[c] < threshold }
        let placed = reached.reversed().lazy.compactMap { crop in
            SoundBoundaries.offset(crop: CropSpan(start: crop.start, end: crop.end), envelope: self.envelope, floor: floor,
                                   heardWithout: absent.filter { $0.end > crop.end }.map { CropSpan(start: $0.start, end: $0.end) })
        }.first
        return placed.map { (min(end, $0), true) } ?? (latest.end, false)
    }
}

/// What a class's detection score is.
public enum DetectionScore: String, Sendable, CaseIterable {
    /// The classification's own score: the mean of the window's crops.
    case window
    /// The strongest crop inside the window: a short sound is not averaged away by the crops that
    /// missed it.
    case strongestCrop = "strongest_crop"
}
