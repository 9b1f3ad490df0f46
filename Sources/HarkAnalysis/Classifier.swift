import HarkEngine
import HarkFeatures

/// One class and its probability.
public struct ScoredLabel: Sendable, Equatable, Codable {
    public var index: Int
    public var label: String
    public var emoji: String
    public var score: Float

    public init(index: Int, label: String, emoji: String, score: Float) {
        self.index = index
        self.label = label
        self.emoji = emoji
        self.score = score
    }
}

/// The model's verdict on one window.
public struct WindowPrediction: Sendable {
    /// Start of the window in seconds from the beginning of the stream or file.
    public var start: Double
    public var top: [ScoredLabel]
    public var probabilities: [Float]
    public var featureMaps: [String: FeatureMap]
}

/// Log-mel + model for windows of one length. Owns scratch memory: one per thread.
public final class Classifier {
    public let model: ResNet
    public let logMel: LogMelSpectrogram
    private let session: InferenceSession
    private var features: [Float] = []

    public init(model: ResNet) throws {
        self.model = model
        logMel = try LogMelSpectrogram(parameters: model.card.frontend.logMel)
        session = model.makeSession()
    }

    public var parameters: LogMelParameters { model.card.frontend.logMel }

    /// Log-mel of a window of exactly `parameters.windowSamples` samples.
    public func features(of window: [Float]) throws -> [Float] {
        guard window.count == parameters.windowSamples else {
            throw FeatureError.wrongLength(expected: parameters.windowSamples, got: window.count)
        }
        try logMel.compute(window, into: &features)
        return features
    }

    /// Classifies a window of audio at the model's sample rate.
    public func classify(window: [Float], start: Double = 0, topK: Int = 3, taps: Set<String> = []) throws -> WindowPrediction {
        let mel = try features(of: window)
        return try classify(logMel: mel, start: start, topK: topK, taps: taps)
    }

    /// Classifies an already computed log-mel window.
    public func classify(logMel mel: [Float], start: Double = 0, topK: Int = 3, taps: Set<String> = []) throws -> WindowPrediction {
        let inference = try session.run(logMel: mel, taps: taps)
        let labels = model.labels
        let top = inference.top(topK).map { ScoredLabel(index: $0.index, label: labels[$0.index].name,
                                                         emoji: labels[$0.index].emoji, score: $0.probability) }
        return WindowPrediction(start: start, top: top, probabilities: inference.probabilities,
                                featureMaps: inference.featureMaps)
    }

    /// Every window of a prepared file, `hopSeconds` apart.
    public func classify(file audio: PreparedAudio, hopSeconds: Double, topK: Int = 3) throws -> [WindowPrediction] {
        let slicer = WindowSlicer(windowSamples: parameters.windowSamples,
                                  hopSamples: max(1, Int((hopSeconds * Double(parameters.sampleRate)).rounded())))
        return try slicer.starts(length: audio.samples.count).map { start in
            try classify(window: slicer.window(audio.samples, start: start),
                         start: Double(start) / Double(parameters.sampleRate), topK: topK)
        }
    }
}
