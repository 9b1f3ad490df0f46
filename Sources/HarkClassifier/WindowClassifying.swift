import HarkEngine
import HarkFeatures

/// The seam between the live pipeline and a model: a window of audio in, a verdict out.
/// `Classifier` is the real one; tests run a fake, deterministic one behind the same protocol.
/// Not `Sendable`: an implementation owns scratch memory and is used from one queue only.
public protocol WindowClassifying: AnyObject {
    /// Rate of the windows `classify` takes (capture resamples to it).
    var sampleRate: Int { get }
    var windowSamples: Int { get }
    var windowSeconds: Double { get }
    var labels: [ModelCard.Label] { get }
    /// Layers whose feature maps `taps` may name.
    var exposedLayers: [String] { get }
    /// The front-end of the log-mel `includeLogMel` returns.
    var parameters: LogMelParameters { get }

    func classify(window: [Float], start: Double, topK: Int, taps: Set<String>, includeLogMel: Bool) throws -> WindowPrediction

    /// Classifies the live window that ends at stream sample `streamEnd` (at `sampleRate`).
    func classify(streamWindow window: [Float], endingAt streamEnd: Int, start: Double, topK: Int, taps: Set<String>,
                  includeLogMel: Bool) throws -> WindowPrediction

    /// Where crops go in later stream windows, on a grid of `hopSamples` (at `sampleRate`).
    func placeCrops(_ placement: CropPlacement, hopSamples: Int)
}

/// A classifier without crops of its own (a test's fake) scores stream windows as windows.
extension WindowClassifying {
    public func classify(streamWindow window: [Float], endingAt streamEnd: Int, start: Double, topK: Int, taps: Set<String>,
                         includeLogMel: Bool) throws -> WindowPrediction {
        try classify(window: window, start: start, topK: topK, taps: taps, includeLogMel: includeLogMel)
    }

    public func placeCrops(_ placement: CropPlacement, hopSamples: Int) {}
}
