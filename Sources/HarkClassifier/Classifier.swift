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
    /// The maps member's feature maps of the layers asked for (empty when none were).
    public var featureMaps: [String: FeatureMap]
    /// The maps member's log-mel of the window, [n_mels × frames] in dB, when asked for.
    public var logMel: [Float]?
    /// The crops inside the window and their probabilities (the members' mean, crop by crop): where
    /// in the window the evidence lies. Empty when the members' crops do not line up.
    public var crops: [CropScore]

    public init(start: Double, top: [ScoredLabel], probabilities: [Float], featureMaps: [String: FeatureMap] = [:],
                logMel: [Float]? = nil, crops: [CropScore] = []) {
        self.start = start
        self.top = top
        self.probabilities = probabilities
        self.featureMaps = featureMaps
        self.logMel = logMel
        self.crops = crops
    }
}

/// A part of a window that a network scored on its own.
public struct CropScore: Sendable, Equatable {
    /// Seconds from the start of the window (or of the stream, once the pipeline places it).
    public var start: Double
    public var end: Double
    public var probabilities: [Float]

    public init(start: Double, end: Double, probabilities: [Float]) {
        self.start = start
        self.end = end
        self.probabilities = probabilities
    }

    /// Members line up crop by crop when they have as many crops inside the window, each within
    /// this much of the other's place (members' frames differ by a fraction of a frame).
    static let alignmentSeconds = 0.05

    /// The crop-by-crop mean over members, or nil when their crops do not line up.
    static func mean(_ members: [[CropScore]]) -> [CropScore]? {
        guard let first = members.first else { return nil }
        for other in members.dropFirst() {
            guard other.count == first.count,
                  zip(other, first).allSatisfy({ abs($0.start - $1.start) <= alignmentSeconds && abs($0.end - $1.end) <= alignmentSeconds })
            else { return nil }
        }
        let scale = 1 / Float(members.count)
        return first.indices.map { k in
            var sum = [Float](repeating: 0, count: first[k].probabilities.count)
            for member in members {
                for c in sum.indices { sum[c] += member[k].probabilities[c] }
            }
            return CropScore(start: first[k].start, end: first[k].end, probabilities: sum.map { $0 * scale })
        }
    }
}

/// Why a classifier refused its input.
public enum ClassifierError: Error, Equatable, CustomStringConvertible {
    case wrongSampleRate(expected: Int, got: Int)
    case ensembleNeedsAudio(model: String, members: Int)
    case unknownMember(name: String, members: [String])

    public var description: String {
        switch self {
        case .wrongSampleRate(let expected, let got): return "audio at \(got) Hz given to a classifier that takes \(expected) Hz"
        case .ensembleNeedsAudio(let model, let members):
            return "\(model) is an ensemble of \(members) networks, each with its own log-mel: classify the window's audio"
        case .unknownMember(let name, let members):
            return "no network '\(name)' in the model; its networks are: \(members.joined(separator: ", "))"
        }
    }
}

/// Log-mel + model(s) for windows of one length. Owns scratch memory: one per thread.
///
/// A model trained on crops (its card has `crops`) scores a window as the mean over its crops, as
/// its validation chose; feature maps still come from one pass over the whole window. An ensemble
/// scores a window as the mean of its members' probabilities, each member on its own log-mel of
/// the window resampled to its own rate; feature maps and the log-mel handed out come from one
/// member, the *maps member* (the first unless chosen).
public final class Classifier: WindowClassifying {
    public let model: ModelEnsemble
    /// Rate of the windows `classify(window:)` takes.
    public let sampleRate: Int
    public let windowSamples: Int
    public let windowSeconds: Double
    /// Index of the member whose feature maps and log-mel are published.
    public let mapsMember: Int
    private let members: [MemberScorer]

    public convenience init(model: ResNet) throws {
        try self.init(model: ModelEnsemble(model))
    }

    /// - Parameter mapsMember: the card name of the network whose maps are published (default: the first).
    public init(model: ModelEnsemble, mapsMember: String? = nil) throws {
        self.model = model
        sampleRate = model.sampleRate
        windowSeconds = model.windowSeconds
        windowSamples = model.windowSamples
        self.mapsMember = try model.memberIndex(named: mapsMember)
        members = try model.members.map { try MemberScorer(network: $0) }
    }

    public var labels: [ModelCard.Label] { model.labels }
    /// The maps member's layers, the ones `taps` may name.
    public var exposedLayers: [String] { model.members[mapsMember].exposedLayers }
    /// The maps member's log-mel parameters (the only member's, for a single network).
    public var parameters: LogMelParameters { members[mapsMember].parameters }

    /// Log-mel of a window of exactly `parameters.windowSamples` samples, for the maps member.
    public func features(of window: [Float]) throws -> [Float] {
        try members[mapsMember].features(of: window)
    }

    /// Where crops go in later `classify(streamWindow:…)` calls; `hopSamples` (at `sampleRate`)
    /// is the live hop the stream grid is laid on. Forgets the crops already scored.
    public func placeCrops(_ placement: CropPlacement, hopSamples: Int) {
        let grids = members.map { $0.grid(placement, hopSamples: hopSamples, sampleRate: sampleRate) }
        // Members average crop by crop: each lays as many crops as the one that fits the fewest
        // (their crops differ by a fraction of a frame, which can put one more in one of them).
        let reference = grids.compactMap { $0 }.min { $0.anchoredCount < $1.anchoredCount }
        for (member, grid) in zip(members, grids) {
            member.placeCrops(on: reference.flatMap { grid?.matching($0) })
        }
    }

    /// Network passes over crops so far, all members together.
    public var cropPasses: Int { members.reduce(0) { $0 + $1.cropPasses } }

    /// Classifies a window of `windowSamples` samples at `sampleRate`; `taps` names the maps
    /// member's layers to return, `includeLogMel` asks for its log-mel of the window.
    public func classify(window: [Float], start: Double = 0, topK: Int = 3, taps: Set<String> = [],
                         includeLogMel: Bool = false) throws -> WindowPrediction {
        try classify(window: window, windowEnd: nil, start: start, topK: topK, taps: taps, includeLogMel: includeLogMel)
    }

    /// Classifies the live window that ends at stream sample `streamEnd`: with crops placed on the
    /// stream (`placeCrops(.stream, …)`), the crops an earlier window held are not scored again.
    public func classify(streamWindow window: [Float], endingAt streamEnd: Int, start: Double, topK: Int = 3,
                         taps: Set<String> = [], includeLogMel: Bool = false) throws -> WindowPrediction {
        try classify(window: window, windowEnd: streamEnd, start: start, topK: topK, taps: taps, includeLogMel: includeLogMel)
    }

    private func classify(window: [Float], windowEnd: Int?, start: Double, topK: Int, taps: Set<String>,
                          includeLogMel: Bool) throws -> WindowPrediction {
        guard window.count == windowSamples else {
            throw FeatureError.wrongLength(expected: windowSamples, got: window.count)
        }
        var sum = [Float](repeating: 0, count: model.labels.count)
        var featureMaps: [String: FeatureMap] = [:]
        var mapsLogMel: [Float]?
        // Members on the same front-end (normalisation is the session's) share one resample and log-mel.
        var logMels: [(parameters: LogMelParameters, mel: [Float])] = []
        var memberCrops: [[CropScore]] = []
        for (i, member) in members.enumerated() {
            let mel: [Float]
            if let shared = logMels.first(where: { $0.parameters == member.parameters }) {
                mel = shared.mel
            } else {
                mel = try member.features(of: try MemberScorer.window(window, from: sampleRate, to: member.parameters))
                logMels.append((member.parameters, mel))
            }
            let scored = try member.score(logMel: mel, windowEnd: windowEnd, taps: i == mapsMember ? taps : [])
            if i == mapsMember {
                featureMaps = scored.featureMaps
                if includeLogMel { mapsLogMel = mel }
            }
            for c in sum.indices { sum[c] += scored.probabilities[c] }
            memberCrops.append(scored.crops)
        }
        let scale = 1 / Float(members.count)
        var result = prediction(sum.map { $0 * scale }, featureMaps: featureMaps, start: start, topK: topK)
        result.logMel = mapsLogMel
        result.crops = CropScore.mean(memberCrops) ?? []
        return result
    }

    /// Classifies an already computed log-mel window; a single network only (an ensemble's members
    /// each need their own log-mel: pass the audio).
    public func classify(logMel mel: [Float], start: Double = 0, topK: Int = 3, taps: Set<String> = []) throws -> WindowPrediction {
        guard members.count == 1 else {
            throw ClassifierError.ensembleNeedsAudio(model: model.name, members: members.count)
        }
        let scored = try members[0].score(logMel: mel, taps: taps)
        var result = prediction(scored.probabilities, featureMaps: scored.featureMaps, start: start, topK: topK)
        result.crops = scored.crops
        return result
    }

    private func prediction(_ probabilities: [Float], featureMaps: [String: FeatureMap], start: Double, topK: Int) -> WindowPrediction {
        let labels = model.labels
        let top = Softmax.top(topK, of: probabilities).map {
            ScoredLabel(index: $0.index, label: labels[$0.index].name, emoji: labels[$0.index].emoji, score: $0.probability)
        }
        return WindowPrediction(start: start, top: top, probabilities: probabilities, featureMaps: featureMaps)
    }

    /// Every window of a prepared file, `hopSeconds` apart (each with the maps of `taps`).
    public func classify(file audio: PreparedAudio, hopSeconds: Double, topK: Int = 3, taps: Set<String> = [],
                         includeLogMel: Bool = false) throws -> [WindowPrediction] {
        guard audio.sampleRate == sampleRate else {
            throw ClassifierError.wrongSampleRate(expected: sampleRate, got: audio.sampleRate)
        }
        let slicer = WindowSlicer(windowSamples: windowSamples, hopSamples: max(1, Int((hopSeconds * Double(sampleRate)).rounded())))
        return try slicer.starts(length: audio.samples.count).map { start in
            try classify(window: slicer.window(audio.samples, start: start),
                         start: Double(start) / Double(sampleRate), topK: topK, taps: taps, includeLogMel: includeLogMel)
        }
    }
}
