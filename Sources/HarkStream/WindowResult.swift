import HarkClassifier
import HarkEngine
import HarkFeatures

/// Everything the pipeline knows about one window once it has been through the model stage:
/// the typed result each subscriber receives (`LiveOutput.window`). Heavy parts — feature maps,
/// the log-mel, the audio — are present only when some subscriber asked for them (`Interest`).
public struct WindowResult: Sendable {
    /// The window's number among all windows cut from this stream (0, 1, …; dropped ones count).
    public var sequence: Int
    /// Stream seconds.
    public var start: Double
    public var end: Double
    /// When the result was published (ISO 8601, UTC).
    public var wallTime: String
    /// Wall-clock time the window's last sample was captured, seconds since 1970.
    public var capturedAt: Double
    /// From the capture of the window's last sample to this result's publication.
    public var latencyMilliseconds: Double
    /// RMS level (−∞ for digital silence).
    public var rmsDBFS: Double
    /// Quieter than the energy gate: not classified (`top` is empty, `probabilities` nil).
    public var gated: Bool
    /// Windows cut since the previous published window but dropped because the model was behind.
    public var droppedBefore: Int
    public var top: [ScoredLabel]
    public var probabilities: [Float]?
    /// Per class, the score the event detector compared with its thresholds (`DetectorConfig.score`).
    public var detectionScores: [Float]?
    /// The maps member's feature maps, for the layers any subscriber asked for.
    public var featureMaps: [String: FeatureMap]
    /// The maps member's log-mel of the window, [n_mels × frames] dB (`LiveStreamInfo.logMel`).
    public var logMel: [Float]?
    /// The window's audio, mono at `LiveStreamInfo.sampleRate`.
    public var samples: [Float]?
}

/// What a subscriber needs to know to read results: rates, the window, the labels, the layers.
public struct LiveStreamInfo: Sendable {
    public var sampleRate: Int
    public var windowSeconds: Double
    public var hopSeconds: Double
    public var labels: [ModelCard.Label]
    /// Layers a subscriber may ask maps of (the maps member's).
    public var exposedLayers: [String]
    /// The front-end of `WindowResult.logMel`.
    public var logMel: LogMelParameters
}

/// One item a subscriber receives, in publication order.
public enum LiveOutput: Sendable {
    case window(WindowResult)
    case event(EventMessage)
    case status(StatusMessage)
}
