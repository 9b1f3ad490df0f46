import Foundation
import HarkFeatures

/// The JSON model card beside each `Models/NAME.safetensors`: what the network is, what it expects
/// as input, what its outputs mean, and how it was trained and measured.
public struct ModelCard: Codable, Sendable {
    public var format: String
    public var name: String
    public var description: String?
    public var architecture: Architecture
    public var frontend: FrontEnd
    public var labels: [Label]
    /// The feature-map layers this model exposes (see `FeatureMapTap`).
    public var layers: [ExposedLayer]
    public var weights: Weights
    public var evaluation: Evaluation?
    public var training: Training?
    public var license: License?
    /// How a window is scored when the model was trained on shorter crops; nil = whole windows.
    public var crops: Crops?
    /// Event-detector settings fitted for this network on validation streams; nil = Hark's defaults.
    public var detection: DetectionCalibration?

    public struct Architecture: Codable, Sendable, Equatable {
        public enum Stem: String, Codable, Sendable {
            /// 3×3 stride-2 convolution.
            case conv3
            /// 7×7 stride-2 convolution, then 3×3 stride-2 max-pool (the seed ResNet's stem).
            case conv7MaxPool = "conv7_maxpool"
        }
        public var family: String
        public var stem: Stem
        public var stemWidth: Int
        public var blocks: [Int]
        public var widths: [Int]
        public var dropout: Double
        public var numClasses: Int
        public var batchNormEps: Double
        public var macs: Int?
        public var parameters: Int?

        enum CodingKeys: String, CodingKey {
            case family, stem, stemWidth = "stem_width", blocks, widths, dropout
            case numClasses = "num_classes", batchNormEps = "batch_norm_eps", macs, parameters
        }
    }

    /// The log-mel parameters plus what the model does to its input before the first layer.
    public struct FrontEnd: Codable, Sendable, Equatable {
        public var logMel: LogMelParameters
        public var normalization: Normalization
        /// How files and devices reach `sample_rate` ("soxr-hq") and become mono ("mean").
        public var resampler: String
        public var mixdown: String

        public struct Normalization: Codable, Sendable, Equatable {
            public var mean: Float
            public var std: Float
        }

        enum CodingKeys: String, CodingKey { case normalize, resampler, mixdown }

        public init(logMel: LogMelParameters, normalization: Normalization, resampler: String = "soxr-hq",
                    mixdown: String = "mean") {
            self.logMel = logMel
            self.normalization = normalization
            self.resampler = resampler
            self.mixdown = mixdown
        }

        public init(from decoder: any Decoder) throws {
            logMel = try LogMelParameters(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            normalization = try c.decode(Normalization.self, forKey: .normalize)
            resampler = try c.decodeIfPresent(String.self, forKey: .resampler) ?? "soxr-hq"
            mixdown = try c.decodeIfPresent(String.self, forKey: .mixdown) ?? "mean"
        }

        public func encode(to encoder: any Encoder) throws {
            try logMel.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(normalization, forKey: .normalize)
            try c.encode(resampler, forKey: .resampler)
            try c.encode(mixdown, forKey: .mixdown)
        }
    }

    public struct Label: Codable, Sendable, Equatable {
        public var index: Int
        public var name: String
        public var emoji: String

        public init(index: Int, name: String, emoji: String) {
            self.index = index
            self.name = name
            self.emoji = emoji
        }
    }

    public struct ExposedLayer: Codable, Sendable, Equatable {
        public var name: String
        public var description: String?
    }

    public struct Weights: Codable, Sendable {
        public var file: String
        public var dtype: String
    }

    public struct Evaluation: Codable, Sendable {
        public var protocolDescription: String?
        public var fold5Top1: Double?
        public var fold5Top5: Double?

        enum CodingKeys: String, CodingKey {
            case protocolDescription = "protocol", fold5Top1 = "fold5_top1", fold5Top5 = "fold5_top5"
        }
    }

    public struct Training: Codable, Sendable {
        public var wallSeconds: Double?
        public var machine: String?
        public var command: String?

        enum CodingKeys: String, CodingKey { case wallSeconds = "wall_seconds", machine, command }
    }

    /// Test-time crop averaging: a window's probabilities are the mean softmax over `count` crops
    /// of `frames` frames, evenly spaced and wrapping around the window's end (as in training),
    /// crop k read through `views[k % views.count]` when the card has views.
    public struct Crops: Codable, Sendable, Equatable {
        public var count: Int
        public var frames: Int
        /// How crops are read (test-time warps); absent: every crop plain.
        public var views: [CropView]?

        public init(count: Int, frames: Int, views: [CropView]? = nil) {
            self.count = count
            self.frames = frames
            self.views = views
        }

        /// First frame of each crop in a window of `windowFrames` frames.
        public func starts(windowFrames: Int) -> [Int] {
            (0..<count).map { $0 * windowFrames / count }
        }

        /// The view crop `index` is read through (crops on a stream grid pass their grid index).
        public func view(ofCrop index: Int) -> CropView {
            guard let views, !views.isEmpty else { return .plain }
            let k = index % views.count
            return views[k < 0 ? k + views.count : k]
        }
    }

    public struct License: Codable, Sendable {
        public var weights: String?
        public var data: String?
    }

    enum CodingKeys: String, CodingKey {
        case format, name, description, architecture, frontend, labels, layers, weights, evaluation, training, license, crops
        case detection
    }

    public static func load(path: String) throws(EngineError) -> ModelCard {
        let card = try CardFile.decode(ModelCard.self, path: path)
        guard card.labels.count == card.architecture.numClasses else {
            throw .malformedModelCard(path: path, reason: "\(card.labels.count) labels for \(card.architecture.numClasses) classes")
        }
        do {
            try card.frontend.logMel.validate()
        } catch {
            throw .malformedModelCard(path: path, reason: error.description)
        }
        if let crops = card.crops, crops.count < 1 || !(1...card.frontend.logMel.frames).contains(crops.frames) {
            throw .malformedModelCard(path: path, reason: "crops: \(crops.count) of \(crops.frames) frames "
                                      + "in a window of \(card.frontend.logMel.frames)")
        }
        for view in card.crops?.views ?? [] {
            let mels = card.frontend.logMel.nMels
            guard view.rate > 0, view.rate <= 4, abs(view.shift) < mels else {
                throw .malformedModelCard(path: path, reason: "crop view shift \(view.shift), rate \(view.rate): "
                                          + "the shift must stay within \(mels) mel bins and the rate in (0, 4]")
            }
        }
        return card
    }
}
