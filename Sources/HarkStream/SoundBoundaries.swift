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
    ///
    /// `heardWithout`: stretches where another sound was heard (another class's open event). When
    /// the crop's first run goes on from before the crop and lies wholly inside one of them, it is
    /// that sound's tail (sounds that follow each other closer than a crop is long), and the onset
    /// is the crop's next run, where there is one. A run that begins inside the crop is never
    /// skipped: another label may have been given to this very sound first.
    public static func onset(crop: CropSpan, envelope: EnergyEnvelope?, floor: Double,
                             heardWithout: [CropSpan] = []) -> Double? {
        guard let envelope else { return crop.start }
        let runs = loudRuns(crop: crop, envelope: envelope, floor: floor)
        guard let first = runs.first else { return nil }
        let firstWidened = widened(first, envelope: envelope, floor: floor)
        let isTail = firstWidened.lowerBound < first.lowerBound && heard(run: first, within: heardWithout, envelope: envelope)
        if isTail && runs.count > 1 { return envelope.time(ofBlock: runs[1].lowerBound) }
        return envelope.time(ofBlock: firstWidened.lowerBound)
    }

    /// Where the sound heard in `crop` ended: the end of the crop's last loud block, or of the loud
    /// run it goes on into after the crop. Nil when the crop holds nothing loud; without an
    /// envelope, the crop's end. `heardWithout`: stretches that later crops scoring this class
    /// absent heard; a run wholly inside one is the next sound's head and does not stretch this end.
    public static func offset(crop: CropSpan, envelope: EnergyEnvelope?, floor: Double,
                              heardWithout: [CropSpan] = []) -> Double? {
        guard let envelope else { return crop.end }
        let runs = loudRuns(crop: crop, envelope: envelope, floor: floor)
        guard let last = runs.last else { return nil }
        let own = runs.last { !heard(run: $0, within: heardWithout, envelope: envelope) } ?? last
        return envelope.time(ofBlock: widened(own, envelope: envelope, floor: floor).upperBound)
    }

    /// Whether `run`'s blocks lie wholly inside one of `spans` (to half a block).
    static func heard(run: Range<Int>, within spans: [CropSpan], envelope: EnergyEnvelope) -> Bool {
        let slack = envelope.blockSeconds / 2
        let from = envelope.time(ofBlock: run.lowerBound), to = envelope.time(ofBlock: run.upperBound)
        return spans.contains { $0.start - slack <= from && to <= $0.end + slack }
    }

    /// The crop's loud runs in time order, each blocks [first, last + 1) inside the crop: loud
    /// blocks with quiet gaps up to `bridgedGapSeconds` between them.
    static func loudRuns(crop: CropSpan, envelope: EnergyEnvelope, floor: Double) -> [Range<Int>] {
        let levels = envelope.levels, loud = floor + riseDB, maxGap = maxGapBlocks(envelope)
        var runs: [Range<Int>] = []
        for i in envelope.blocks(from: crop.start, to: crop.end) where levels[i] >= loud {
            if let last = runs.last, i - last.upperBound <= maxGap {
                runs[runs.count - 1] = last.lowerBound..<(i + 1)
            } else {
                runs.append(i..<(i + 1))
            }
        }
        return runs
    }

    /// `run` widened through the loud blocks it continues into outside the crop, gaps bridged as inside.
    static func widened(_ run: Range<Int>, envelope: EnergyEnvelope, floor: Double) -> Range<Int> {
        let levels = envelope.levels, loud = floor + riseDB, maxGap = maxGapBlocks(envelope)
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
        return reach(from: run.lowerBound, step: -1)..<(reach(from: run.upperBound - 1, step: 1) + 1)
    }

    static func maxGapBlocks(_ envelope: EnergyEnvelope) -> Int {
        Int((bridgedGapSeconds / envelope.blockSeconds).rounded())
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
