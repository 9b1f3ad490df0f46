import Foundation
import HarkAnalysis
import HarkClassifier
import HarkEngine
import Testing
import TestSupport

@Suite struct WindowSlicerTests {
    let slicer = WindowSlicer(windowSamples: 50, hopSamples: 20)

    @Test func shortSignalsGetOnePaddedWindow() {
        #expect(slicer.starts(length: 30) == [0])
        let w = slicer.window((1...30).map(Float.init), start: 0)
        #expect(w.count == 50 && w[29] == 30 && w[30] == 0)
    }

    @Test func longSignalsGetATailWindow() {
        #expect(slicer.starts(length: 50) == [0])
        #expect(slicer.starts(length: 90) == [0, 20, 40])
        #expect(slicer.starts(length: 95) == [0, 20, 40, 60])
        #expect(slicer.window([Float](repeating: 1, count: 95), start: 60).filter { $0 == 1 }.count == 35)
    }
}

@Suite struct TextReportTests {
    @Test func barsScaleWithScore() {
        #expect(TextReport.bar(0) == "")
        #expect(TextReport.bar(1, width: 4) == "████")
        #expect(TextReport.bar(0.5, width: 4) == "██")
        #expect(TextReport.bar(0.5 + 1.0 / 64, width: 4) == "██▏")
    }
}

/// A copy of the shipped network's card (beside a link to its weights) whose crops are read
/// through `views` (the card's JSON form: [{"shift": …, "rate": …}, …]); the copy's path.
func shippedCard(views: Any) throws -> String {
    let dir = try TestPaths.temporaryDirectory("hark-views")
    var card = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestPaths.shippedModelCard))) as? [String: Any])
    var crops = try #require(card["crops"] as? [String: Any])
    crops["views"] = views
    card["crops"] = crops
    let weights = try #require((card["weights"] as? [String: Any])?["file"] as? String)
    try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(weights),
                                               withDestinationURL: TestPaths.models.appendingPathComponent(weights))
    let path = dir.appendingPathComponent("hark-esc50.json")
    try JSONSerialization.data(withJSONObject: card).write(to: path)
    return path.path
}

/// A window's probabilities as PyTorch computes them under the model card's protocol.
@Suite struct ClassifierParityTests {
    @Test(arguments: ParityFixture.modelNames) func windowProbabilitiesMatchPyTorch(name: String) throws {
        let model = try ResNet.load(cardPath: TestPaths.modelCard(name))
        let fixture = try ParityFixture.load(name)
        let tensors = try FixtureTensors.load(name)
        let classifier = try Classifier(model: model)
        for (i, clip) in fixture.clips.enumerated() {
            let mel = try #require(tensors["clip\(i).logmel"]).values
            let expected: [Float]
            if model.card.crops != nil {
                expected = try #require(tensors["clip\(i).crop_probabilities"], "fixture lacks the crop average").values
            } else {
                expected = Softmax.probabilities(try #require(tensors["clip\(i).logits"]).values)
            }
            let prediction = try classifier.classify(logMel: mel, topK: 1)
            let worst = maxAbsDifference(prediction.probabilities, expected)
            #expect(worst <= 1e-4, "\(clip.file): probabilities max |Δ| = \(worst)")
            #expect(prediction.top[0].index == clip.verdict)
        }
    }

    /// The shipped network with its crops read through a view set (Training/views_fixture.py).
    @Test func cropViewsMatchPyTorch() throws {
        let fixture = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.fixtures
            .appendingPathComponent("parity/views/hark-esc50-views-C.json"))) as? [String: Any])
        let viewed = try Classifier(model: try ResNet.load(cardPath: try shippedCard(views: try #require(fixture["views"]))))
        #expect(viewed.model.members[0].card.crops?.views?.count == 8)
        let plain = try Classifier(model: try ResNet.load(cardPath: TestPaths.shippedModelCard))
        let tensors = try FixtureTensors.load(ParityFixture.shippedModelName)
        let clips = try #require(fixture["clips"] as? [[String: Any]])
        #expect(clips.count == 3)
        for (i, clip) in clips.enumerated() {
            let mel = try #require(tensors["clip\(i).logmel"]).values
            let expected = try #require(clip["probabilities"] as? [Double]).map(Float.init)
            let got = try viewed.classify(logMel: mel, topK: 1).probabilities
            #expect(maxAbsDifference(got, expected) <= 1e-4, "clip \(i): max |Δ| = \(maxAbsDifference(got, expected))")
            // The views change the answer: a reader that ignored them would fail above.
            #expect(maxAbsDifference(try plain.classify(logMel: mel, topK: 1).probabilities, expected) > 1e-3)
        }
    }

    @Test func cropViewsBeyondTheBandAreRejected() throws {
        let dir = try TestPaths.temporaryDirectory("hark-views")
        var card = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestPaths.shippedModelCard))) as? [String: Any])
        card["crops"] = ["count": 8, "frames": 108, "views": [["shift": 64, "rate": 1.0]]]
        let path = dir.appendingPathComponent("card.json").path
        try JSONSerialization.data(withJSONObject: card).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ModelCard.load(path: path)
        } throws: { error in
            String(describing: error).contains("crop view")
        }
    }

    @Test func cropsBeyondTheWindowAreRejected() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hark-crops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var card = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestPaths.shippedModelCard))) as? [String: Any]
        card?["crops"] = ["count": 8, "frames": 100_000]
        let path = dir.appendingPathComponent("card.json").path
        try JSONSerialization.data(withJSONObject: try #require(card)).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ModelCard.load(path: path)
        } throws: { error in
            String(describing: error).contains("crops")
        }
    }
}

/// `hark eval`'s engine on a handful of fold-5 clips.
@Suite struct EvaluatorTests {
    @Test func reportIsConsistentAndMatchesThePyTorchVerdicts() throws {
        let model = try ResNet.load(cardPath: TestPaths.shippedModelCard)
        let fixture = try ParityFixture.load(ParityFixture.shippedModelName)
        let all = try ESC50.clips(root: TestPaths.esc50.path, folds: [5])
        #expect(all.count == 400)
        let clips = all.filter { c in fixture.clips.contains { c.path.hasSuffix($0.file) } }
        #expect(clips.count == fixture.clips.count)
        let report = try Evaluator.run(model: ModelEnsemble(model), clips: clips, folds: [5], workers: 2)
        #expect(report.clips == clips.count && report.failed.isEmpty)
        let expectedHits = fixture.clips.filter { $0.verdict == $0.target }.count
        #expect(abs(report.top1 - Double(expectedHits) / Double(clips.count)) < 1e-9)
        #expect(report.top5 >= report.top1)
        #expect(report.perClassRecall.reduce(0) { $0 + $1.clips } == clips.count)
        #expect(report.mostConfused.reduce(0) { $0 + $1.count } == clips.count - expectedHits)
    }

    @Test func missingDatasetIsExplained() {
        #expect(throws: ESC50Error.self) { try ESC50.clips(root: "/nonexistent") }
    }
}
