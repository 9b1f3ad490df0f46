import Foundation
import HarkEngine
import Testing
import TestSupport

/// Taps copy what they are asked for, and a stage's output only once.
@Suite struct FeatureMapTapTests {
    @Test func aStageAndItsLastBlockShareOneCopy() throws {
        let model = try ResNet.load(cardPath: TestPaths.shippedModelCard)
        let session = model.makeSession()
        var g = SystemRandomNumberGenerator()
        let mel = (0..<session.inputShape.count).map { _ in Float.random(in: -60...0, using: &g) }
        let maps = try session.run(logMel: mel, taps: ["layer2", "layer2.1", "layer3"]).featureMaps
        #expect(maps.keys.sorted() == ["layer2", "layer2.1", "layer3"])
        let stage = try #require(maps["layer2"]), block = try #require(maps["layer2.1"])
        #expect(stage.values == block.values && stage.shape == block.shape)
        #expect(stage.layer == "layer2" && block.layer == "layer2.1")
        let shared = stage.values.withUnsafeBufferPointer { a in block.values.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        #expect(shared, "layer2 and layer2.1 should be one array")
        // Nothing asked, nothing copied.
        #expect(try session.run(logMel: mel).featureMaps.isEmpty)
    }
}
