import Foundation

/// Loudness of a window in dB relative to full scale, to skip silent windows cheaply.
public enum EnergyGate {
    /// RMS level in dBFS (a full-scale sine is −3 dBFS); −∞ for digital silence.
    public static func rmsDBFS(_ samples: [Float]) -> Double {
        guard !samples.isEmpty else { return -.infinity }
        var sum = 0.0
        for s in samples { sum += Double(s) * Double(s) }
        let rms = (sum / Double(samples.count)).squareRoot()
        return rms > 0 ? 20 * log10(rms) : -.infinity
    }
}
