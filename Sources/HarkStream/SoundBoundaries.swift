/// Places a sound's start and end inside a window, below the resolution of the crops that heard it:
/// the loud blocks of the energy envelope (louder than the background floor by `riseDB`) in the
/// crop that carried the evidence, and the runs they belong to. Pure functions over
/// hand-checkable numbers (`SoundBoundariesTests`).
public enum SoundBoundaries {
    /// A block is loud when it is this far above the background floor: 50-ms blocks of steady pink
    /// noise reach +9.3 dB over their median in 10 minutes, so a smaller rise finds "sounds" in noise.
    public static let riseDB = 10.0
    /// Quieter stretches up to this long inside a run do not end it (gaps between barks, between syllables).
    public static let bridgedGapSeconds = 0.3

    /// Where the sound heard in `crop` began: the crop's first loud block, or the start of the
    /// loud run it continues from before the crop (an earlier crop heard too little of it). Nil
    /// when the crop holds nothing louder than `floor` + `riseDB`: its score is then no evidence of
    /// where a sound is. Without an envelope, the crop's start.
    public static func onset(crop: CropSpan, envelope: EnergyEnvelope?, floor: Double) -> Double? {
        guard let envelope else { return crop.start }
        return loudSpan(crop: crop, envelope: envelope, floor: floor).map { envelope.time(ofBlock: $0.lowerBound) }
    }

    /// Where the sound heard in `crop` ended: the end of the crop's last loud block, or of the loud
    /// run it goes on into after the crop. Nil when the crop holds nothing loud; without an
    /// envelope, the crop's end.
    public static func offset(crop: CropSpan, envelope: EnergyEnvelope?, floor: Double) -> Double? {
        guard let envelope else { return crop.end }
        return loudSpan(crop: crop, envelope: envelope, floor: floor).map { envelope.time(ofBlock: $0.upperBound) }
    }

    /// Blocks [first, last + 1): from the crop's first loud block to its last, each widened through
    /// the loud run it belongs to (quiet gaps up to `bridgedGapSeconds` bridged); nil when no block
    /// of the crop is loud.
    static func loudSpan(crop: CropSpan, envelope: EnergyEnvelope, floor: Double) -> Range<Int>? {
        let levels = envelope.levels, loud = floor + riseDB
        let inCrop = envelope.blocks(from: crop.start, to: crop.end)
        guard let first = inCrop.first(where: { levels[$0] >= loud }),
              let last = inCrop.last(where: { levels[$0] >= loud }) else { return nil }
        let maxGap = Int((bridgedGapSeconds / envelope.blockSeconds).rounded())
        func reach(from edge: Int, step: Int) -> Int {
            var edge = edge, gap = 0, i = edge + step
            while i >= 0 && i < levels.count {
                if levels[i] >= loud {
                    edge = i
                    gap = 0
                } else {
                    gap += 1
                    if gap > maxGap { break }
                }
                i += step
            }
            return edge
        }
        return reach(from: first, step: -1)..<(reach(from: last, step: 1) + 1)
    }
}

/// A stretch of stream time that a crop covered.
public struct CropSpan: Sendable, Equatable {
    public var start: Double
    public var end: Double

    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }
}

/// The level of the background, for telling a sound's blocks from the rest: the lowest of the
/// recent windows' typical levels (each window's median block), so that a sound filling
/// whole windows is still heard as loud (minimum statistics, as noise estimators track noise).
/// Owned by the event detector.
public struct BackgroundFloor: Sendable {
    /// How far back the lowest window level is looked for.
    public static let memorySeconds = 30.0
    static let typicalPercentile = 0.5
    private var recent: [(end: Double, level: Double)] = []

    public init() {}

    /// Takes a window's envelope and returns the floor to judge that window by.
    public mutating func update(_ envelope: EnergyEnvelope, windowEnd: Double) -> Double {
        let sorted = envelope.levels.sorted()
        if !sorted.isEmpty {
            recent.append((windowEnd, sorted[min(sorted.count - 1, Int(Double(sorted.count) * Self.typicalPercentile))]))
        }
        recent.removeAll { windowEnd - $0.end > Self.memorySeconds }
        return recent.map(\.level).min() ?? EnergyEnvelope.silenceDBFS
    }
}
