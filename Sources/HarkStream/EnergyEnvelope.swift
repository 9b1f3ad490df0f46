import Foundation

/// A window's loudness over time in short blocks (dBFS): where a sound heard by the network starts
/// and stops, finer than its crops. Computed on the model queue beside the window's RMS.
public struct EnergyEnvelope: Sendable, Equatable {
    /// Stream seconds at the start of the first block.
    public var start: Double
    public var blockSeconds: Double
    /// RMS per block, dBFS (−120 for digital silence, so that arithmetic stays finite).
    public var levels: [Double]

    public static let defaultBlockSeconds = 0.05
    static let silenceDBFS = -120.0

    public init(start: Double, blockSeconds: Double, levels: [Double]) {
        self.start = start
        self.blockSeconds = blockSeconds
        self.levels = levels
    }

    /// The envelope of `samples` at `sampleRate`, whose first sample is at stream second `start`.
    public init(samples: [Float], sampleRate: Int, start: Double, blockSeconds: Double = defaultBlockSeconds) {
        let block = max(1, Int((blockSeconds * Double(sampleRate)).rounded()))
        var levels: [Double] = []
        levels.reserveCapacity(samples.count / block)
        var i = 0
        while i + block <= samples.count {
            var sum = 0.0
            for s in samples[i..<(i + block)] { sum += Double(s) * Double(s) }
            let meanSquare = sum / Double(block)
            levels.append(meanSquare > 0 ? max(Self.silenceDBFS, 10 * log10(meanSquare)) : Self.silenceDBFS)
            i += block
        }
        self.init(start: start, blockSeconds: Double(block) / Double(sampleRate), levels: levels)
    }

    func time(ofBlock i: Int) -> Double { start + Double(i) * blockSeconds }

    /// Blocks whose span lies in [from, to) stream seconds.
    func blocks(from: Double, to: Double) -> Range<Int> {
        let lower = max(0, Int(((from - start) / blockSeconds - 1e-9).rounded(.up)))
        let upper = min(levels.count, Int(((to - start) / blockSeconds + 1e-9).rounded(.down)))
        return lower..<max(lower, upper)
    }
}
