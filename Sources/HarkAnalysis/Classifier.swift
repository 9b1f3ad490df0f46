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
///
/// A model trained on crops (its card has `crops`) scores a window as the mean over its crops, as
/// its validation chose; feature maps still come from one pass over the whole window.
public final class Classifier {
    public let model: ResNet
    public let logMel: LogMelSpectrogram
    private let session: InferenceSession
    private let cropSession: (crops: ModelCard.Crops, session: InferenceSession)?
    private var features: [Float] = []
    private var crop: [Float] = []

    public init(model: ResNet) throws {
        self.model = model
        logMel = try LogMelSpectrogram(parameters: model.card.frontend.logMel)
        session = model.makeSession()
        if let crops = model.card.crops, crops.count > 1 || crops.frames < model.card.frontend.logMel.frames {
            cropSession = (crops, model.makeSession(frames: crops.frames))
        } else {
            cropSession = nil
        }
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
        let probabilities: [Float]
        var featureMaps: [String: FeatureMap] = [:]
        if let cropSession {
            probabilities = try cropAveragedProbabilities(mel, crops: cropSession.crops, session: cropSession.session)
            if !taps.isEmpty { featureMaps = try session.run(logMel: mel, taps: taps).featureMaps }
        } else {
            let inference = try session.run(logMel: mel, taps: taps)
            probabilities = inference.probabilities
            featureMaps = inference.featureMaps
        }
        let labels = model.labels
        let top = Softmax.top(topK, of: probabilities).map {
            ScoredLabel(index: $0.index, label: labels[$0.index].name, emoji: labels[$0.index].emoji, score: $0.probability)
        }
        return WindowPrediction(start: start, top: top, probabilities: probabilities, featureMaps: featureMaps)
    }

    /// Mean softmax over the card's crops of a [n_mels × frames] log-mel window.
    private func cropAveragedProbabilities(_ mel: [Float], crops: ModelCard.Crops,
                                           session: InferenceSession) throws -> [Float] {
        let mels = parameters.nMels, frames = parameters.frames
        guard mel.count == mels * frames else {
            throw EngineError.wrongInputSize(expected: mels * frames, got: mel.count)
        }
        var sum = [Float](repeating: 0, count: model.labels.count)
        if crop.count != mels * crops.frames { crop = [Float](repeating: 0, count: mels * crops.frames) }
        for first in crops.starts(windowFrames: frames) {
            for m in 0..<mels {
                for t in 0..<crops.frames {
                    crop[m * crops.frames + t] = mel[m * frames + (first + t) % frames]
                }
            }
            let p = try session.run(logMel: crop).probabilities
            for i in sum.indices { sum[i] += p[i] }
        }
        let scale = 1 / Float(crops.count)
        return sum.map { $0 * scale }
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
