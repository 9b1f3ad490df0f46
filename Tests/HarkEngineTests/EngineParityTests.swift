import Foundation
import HarkEngine
import Testing
import TestSupport

/// The engine against PyTorch on the exporter's fixtures: logits within 1e-3, feature maps close.
@Suite struct EngineParityTests {
    struct CardFile: Decodable { var card: ModelCard }

    static func shippedModel() throws -> ResNet {
        try ResNet.load(cardPath: TestPaths.shippedModelCard)
    }

    static func seedSizeModel() throws -> ResNet {
        let card = try JSONDecoder().decode(CardFile.self, from: try ParityFixture.json("seed-resnet-random")).card
        return try ResNet(card: card, tensors: DeterministicWeights.tensors(for: card.architecture))
    }

    /// Runs every fixture clip through the engine off the test's thread (the seed-size model takes
    /// a while in a debug build), then compares with PyTorch.
    func check(_ makeModel: @escaping @Sendable () throws -> ResNet, fixture name: String) async throws {
        let fixture = try ParityFixture.load(name)
        let tensors = try FixtureTensors.load(name)
        let mels = try fixture.clips.indices.map { try #require(tensors["clip\($0).logmel"]).values }
        let (layers, results) = try await offThread { () -> ([String], [Inference]) in
            let model = try makeModel()
            let session = model.makeSession()
            return (model.exposedLayers, try mels.map { try session.run(logMel: $0, taps: Set(model.exposedLayers)) })
        }
        #expect(Set(layers) == Set(fixture.exposedLayers))
        #expect(fixture.mapsClips >= 1, "\(name): the fixture must keep feature maps for at least one clip")
        for (i, (clip, result)) in zip(fixture.clips, results).enumerated() {
            let reference = try #require(tensors["clip\(i).logits"]).values
            let worst = maxAbsDifference(result.logits, reference)
            #expect(worst <= 1e-3, "\(name) \(clip.file): logits max |Δ| = \(worst)")
            #expect(result.top(1)[0].index == clip.top1)
            for layer in fixture.exposedLayers where i < fixture.mapsClips {
                let map = try #require(result.featureMaps[layer])
                let expectedMean = try #require(tensors["clip\(i).mean.\(layer)"])
                #expect([map.shape.height, map.shape.width] == expectedMean.shape, "\(layer) shape")
                let scale = max(1, expectedMean.values.map(abs).max() ?? 1)
                let d = maxAbsDifference(map.channelMean(), expectedMean.values)
                #expect(d <= 1e-4 * scale, "\(name) \(layer): channel-mean max |Δ| = \(d)")
                if let full = tensors["clip\(i).full.\(layer)"] {
                    #expect([map.shape.channels, map.shape.height, map.shape.width] == full.shape)
                    let fullScale = max(1, full.values.map(abs).max() ?? 1)
                    #expect(maxAbsDifference(map.values, full.values) <= 1e-4 * fullScale)
                }
            }
        }
    }

    /// Every exported network with a fixture (the shipped ensembles' members).
    @Test(arguments: ParityFixture.modelNames) func exportedModelMatchesPyTorch(name: String) async throws {
        try await check({ try ResNet.load(cardPath: TestPaths.modelCard(name)) }, fixture: name)
    }

    @Test func parityFixturesStayWithinFiveMegabytes() throws {
        let folder = TestPaths.fixtures.appendingPathComponent("parity")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.fileSizeKey])
        let total = try files.reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
        #expect(files.count >= 6)
        #expect(total <= 5_000_000, "parity fixtures: \(total) bytes")
    }

    @Test(arguments: TestPaths.ensembleCardNames) func everyEnsembleMemberHasAFixture(name: String) throws {
        let card = try EnsembleCard.load(path: TestPaths.modelCard(name))
        #expect(card.members.count >= 2)
        #expect(Set(card.members.map { String($0.dropLast(5)) }).isSubset(of: Set(ParityFixture.modelNames)))
    }

    @Test func seedSizeResNetMatchesPyTorch() async throws {
        try await check({ try Self.seedSizeModel() }, fixture: "seed-resnet-random")
    }

    @Test func sessionsReuseBuffersAndGiveTheSameAnswer() throws {
        let model = try Self.shippedModel()
        let tensors = try FixtureTensors.load(ParityFixture.shippedModelName)
        let session = model.makeSession()
        let a = try #require(tensors["clip0.logmel"]).values, b = try #require(tensors["clip1.logmel"]).values
        let first = try session.run(logMel: a).logits
        _ = try session.run(logMel: b)
        #expect(try session.run(logMel: a).logits == first)
    }

    @Test func unknownTapAndWrongInputSizeAreErrors() throws {
        let model = try Self.shippedModel()
        let session = model.makeSession()
        let n = session.inputShape.count
        #expect(throws: EngineError.wrongInputSize(expected: n, got: 3)) { try session.run(logMel: [1, 2, 3]) }
        #expect(throws: EngineError.self) { try session.run(logMel: [Float](repeating: 0, count: n), taps: ["layer9"]) }
    }
}

/// The test binary's load-time set-up (Tests/CTestSetup) took effect: tests running side by side
/// must not queue behind OpenBLAS's threaded-call lock.
@Test func theTestProcessRunsBLASOnOneThread() {
    #expect(BLASThreads.current == 1)
}
