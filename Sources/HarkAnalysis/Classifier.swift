import HarkAudio
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

/// Why a classifier refused its input.
public enum ClassifierError: Error, Equatable, CustomStringConvertible {
    case wrongSampleRate(expected: Int, got: Int)
    case ensembleNeedsAudio(model: String, members: Int)

    public var description: String {
        switch self {
        case .wrongSampleRate(let expected, let got): return "audio at \(got) Hz given to a classifier that takes \(expected) Hz"
        case .ensembleNeedsAudio(let model, let members):
            return "\(model) is an ensemble of \(members) networks, each with its own log-mel: classify the window's audio"
        }
    }
}

/// Log-mel + model(s) for windows of one length. Owns scratch memory: one per thread.
///
/// A model trained on crops (its card has `crops`) scores a window as the mean over its crops, as
/// its validation chose; feature maps still come from one pass over the whole window. An ensemble
/// scores a window as the mean of its members' probabilities, each member on its own log-mel of
/// the window resampled to its own rate; feature maps come from the first member.
public final class Classifier {
    public let model: ModelEnsemble
    /// Rate of the windows `classify(window:)` takes.
    public let sampleRate: Int
    public let windowSamples: Int
    public let windowSeconds: Double
    private let members: [MemberScorer]

    public convenience init(model: ResNet) throws {
        try self.init(model: ModelEnsemble(model))
    }

    public init(model: ModelEnsemble) throws {
        self.model = model
        sampleRate = model.sampleRate
        windowSeconds = model.windowSeconds
        windowSamples = model.windowSamples
        members = try model.members.map { try MemberScorer(network: $0) }
    }

    /// The first member's log-mel parameters (the only member's, for a single network).
    public var parameters: LogMelParameters { members[0].parameters }

    /// Log-mel of a window of exactly `parameters.windowSamples` samples, for the first member.
    public func features(of window: [Float]) throws -> [Float] {
        try members[0].features(of: window)
    }

    /// Classifies a window of `windowSamples` samples at `sampleRate`.
    public func classify(window: [Float], start: Double = 0, topK: Int = 3, taps: Set<String> = []) throws -> WindowPrediction {
        guard window.count == windowSamples else {
            throw FeatureError.wrongLength(expected: windowSamples, got: window.count)
        }
        var sum = [Float](repeating: 0, count: model.labels.count)
        var featureMaps: [String: FeatureMap] = [:]
        // Members on the same front-end (normalisation is the session's) share one resample and log-mel.
        var logMels: [(parameters: LogMelParameters, mel: [Float])] = []
        for (i, member) in members.enumerated() {
            let mel: [Float]
            if let shared = logMels.first(where: { $0.parameters == member.parameters }) {
                mel = shared.mel
            } else {
                mel = try member.features(of: try MemberScorer.window(window, from: sampleRate, to: member.parameters))
                logMels.append((member.parameters, mel))
            }
            let scored = try member.score(logMel: mel, taps: i == 0 ? taps : [])
            if i == 0 { featureMaps = scored.featureMaps }
            for c in sum.indices { sum[c] += scored.probabilities[c] }
        }
        let scale = 1 / Float(members.count)
        return prediction(sum.map { $0 * scale }, featureMaps: featureMaps, start: start, topK: topK)
    }

    /// Classifies an already computed log-mel window; a single network only (an ensemble's members
    /// each need their own log-mel: pass the audio).
    public func classify(logMel mel: [Float], start: Double = 0, topK: Int = 3, taps: Set<String> = []) throws -> WindowPrediction {
        guard members.count == 1 else {
            throw ClassifierError.ensembleNeedsAudio(model: model.name, members: members.count)
        }
        let scored = try members[0].score(logMel: mel, taps: taps)
        return prediction(scored.probabilities, featureMaps: scored.featureMaps, start: start, topK: topK)
    }

    private func prediction(_ probabilities: [Float], featureMaps: [String: FeatureMap], start: Double, topK: Int) -> WindowPrediction {
        let labels = model.labels
        let top = Softmax.top(topK, of: probabilities).map {
            ScoredLabel(index: $0.index, label: labels[$0.index].name, emoji: labels[$0.index].emoji, score: $0.probability)
        }
        return WindowPrediction(start: start, top: top, probabilities: probabilities, featureMaps: featureMaps)
    }

    /// Every window of a prepared file, `hopSeconds` apart.
    public func classify(file audio: PreparedAudio, hopSeconds: Double, topK: Int = 3) throws -> [WindowPrediction] {
        guard audio.sampleRate == sampleRate else {
            throw ClassifierError.wrongSampleRate(expected: sampleRate, got: audio.sampleRate)
        }
        let slicer = WindowSlicer(windowSamples: windowSamples, hopSamples: max(1, Int((hopSeconds * Double(sampleRate)).rounded())))
        return try slicer.starts(length: audio.samples.count).map { start in
            try classify(window: slicer.window(audio.samples, start: start),
                         start: Double(start) / Double(sampleRate), topK: topK)
        }
    }
}
