import Foundation

/// A parity fixture written by Training/export.py: reference outputs of the PyTorch path for a few
/// fold-5 clips. Tensors live in NAME.safetensors beside NAME.json; read them with HarkEngine.
public struct ParityFixture: Decodable, Sendable {
    public struct Stats: Decodable, Sendable {
        public var count: Int
        public var sum: Double
        public var sumSquares: Double
        public var head: [Double]
        public var rate: Int?
        public var channels: Int?

        enum CodingKeys: String, CodingKey { case count, sum, sumSquares = "sum_squares", head, rate, channels }
    }

    public struct Clip: Decodable, Sendable {
        public var file: String
        public var label: String
        public var target: Int
        public var decoded: Stats
        public var resampled: Stats
        /// Argmax of the whole window's logits.
        public var top1: Int
        /// The class the model card's protocol picks (the mean over crops when it has them).
        public var verdict: Int
    }

    public struct FrontEnd: Decodable, Sendable {
        public var sampleRate: Int
        enum CodingKeys: String, CodingKey { case sampleRate = "sample_rate" }
    }

    public var name: String
    public var frontend: FrontEnd
    public var clips: [Clip]
    public var exposedLayers: [String]
    public var fullMaps: [String]
    /// Feature maps are in the fixture for the first `mapsClips` clips; the rest carry log-mel,
    /// logits and crop probabilities only (keeps a member's fixture small). Fixtures written
    /// before the exporter had the option keep maps for every clip.
    public var mapsClips: Int { writtenMapsClips ?? clips.count }
    private var writtenMapsClips: Int?

    enum CodingKeys: String, CodingKey {
        case name, frontend, clips, exposedLayers = "exposed_layers", fullMaps = "full_maps", writtenMapsClips = "maps_clips"
    }

    public static func url(_ name: String, _ ext: String) -> URL {
        TestPaths.fixtures.appendingPathComponent("parity/\(name).\(ext)")
    }

    public static func load(_ name: String) throws -> ParityFixture {
        try JSONDecoder().decode(ParityFixture.self, from: Data(contentsOf: url(name, "json")))
    }

    /// The raw JSON, for objects the engine decodes itself (front-end, card).
    public static func json(_ name: String) throws -> Data { try Data(contentsOf: url(name, "json")) }

    /// The exported networks' fixtures (every one but the seed-size random model's), sorted.
    public static var modelNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.fixtures.appendingPathComponent("parity").path)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "seed-resnet-random.json" }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The single network most tests load: K, the three-network ensemble's first member.
    public static let shippedModelName = "hark-esc50"
}

/// Largest absolute difference between two equally long arrays.
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
    return worst
}

extension TestPaths {
    /// The single-network model card most tests load (K, the three-network ensemble's first member).
    public static var shippedModelCard: String { modelCard(ParityFixture.shippedModelName) }

    /// The default model (what `ModelLocator` finds when none is named): one network, hires-nt.
    public static var defaultCard: String { modelCard(defaultCardName) }
    public static let defaultCardName = "hark-esc50-hires-nt"

    /// The pair's ensemble card (mx2 and hires, fine-tuned with background noise): what the ensemble
    /// tests load, whichever card is the default.
    public static var pairCard: String { modelCard(pairCardName) }
    public static let pairCardName = "hark-esc50-pair-nt"

    /// The shipped ensemble cards: the pair and the three-network ensemble.
    public static let ensembleCardNames = [pairCardName, "hark-esc50-ensemble"]

    public static func modelCard(_ name: String) -> String { models.appendingPathComponent("\(name).json").path }

    /// The ESC-50 clips of the shipped network's parity fixture (fold-5 clips with PyTorch's answers).
    public static func shippedModelClips() throws -> [String] {
        try ParityFixture.load(ParityFixture.shippedModelName).clips.map { esc50Clip($0.file) }
    }
}
