import Foundation

/// Triangular mel filters laid out like torchaudio's `melscale_fbanks` ([frequency bins, mels]),
/// stored sparsely: each filter keeps only the bins where it is non-zero.
public struct MelFilterBank: Sendable {
    public struct Filter: Sendable {
        public var firstBin: Int
        public var weights: [Float]
    }

    public let filters: [Filter]
    public let frequencyBins: Int

    public init(_ p: LogMelParameters) {
        let nFreqs = p.frequencyBins
        frequencyBins = nFreqs
        // torchaudio: linspace(0, sample_rate // 2, n_freqs) — integer division on purpose.
        let nyquist = Double(p.sampleRate / 2)
        let allFreqs = (0..<nFreqs).map { nFreqs == 1 ? 0 : nyquist * Double($0) / Double(nFreqs - 1) }
        let mMin = Self.hzToMel(p.fMin, p.melScale)
        let mMax = Self.hzToMel(p.fMax, p.melScale)
        let points = (0..<(p.nMels + 2)).map { i in
            Self.melToHz(mMin + (mMax - mMin) * Double(i) / Double(p.nMels + 1), p.melScale)
        }
        var filters: [Filter] = []
        for m in 0..<p.nMels {
            let lower = points[m], centre = points[m + 1], upper = points[m + 2]
            let scale = p.melNorm == .slaney ? 2 / (upper - lower) : 1
            var first = -1
            var weights: [Float] = []
            for k in 0..<nFreqs {
                let down = (allFreqs[k] - lower) / (centre - lower)
                let up = (upper - allFreqs[k]) / (upper - centre)
                let w = max(0, min(down, up)) * scale
                if w > 0 {
                    if first < 0 { first = k }
                    // Fill gaps inside a filter with zeros so weights stay contiguous.
                    while first + weights.count < k { weights.append(0) }
                    weights.append(Float(w))
                }
            }
            filters.append(Filter(firstBin: max(first, 0), weights: weights))
        }
        self.filters = filters
    }

    /// Filters that are all zero (too narrow for the FFT's bin spacing); torchaudio warns about these.
    public var emptyFilters: Int { filters.filter { $0.weights.isEmpty }.count }

    /// Dense [bins × mels] matrix, row-major, as torchaudio lays it out.
    public func dense() -> [Float] {
        var out = [Float](repeating: 0, count: frequencyBins * filters.count)
        for (m, f) in filters.enumerated() {
            for (i, w) in f.weights.enumerated() { out[(f.firstBin + i) * filters.count + m] = w }
        }
        return out
    }

    static func hzToMel(_ f: Double, _ scale: LogMelParameters.MelScale) -> Double {
        switch scale {
        case .htk:
            return 2595 * log10(1 + f / 700)
        case .slaney:
            let fSp = 200.0 / 3
            let minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
            return f >= minLogHz ? minLogMel + log(f / minLogHz) / logStep : f / fSp
        }
    }

    static func melToHz(_ m: Double, _ scale: LogMelParameters.MelScale) -> Double {
        switch scale {
        case .htk:
            return 700 * (pow(10, m / 2595) - 1)
        case .slaney:
            let fSp = 200.0 / 3
            let minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
            return m >= minLogMel ? minLogHz * exp(logStep * (m - minLogMel)) : fSp * m
        }
    }
}
