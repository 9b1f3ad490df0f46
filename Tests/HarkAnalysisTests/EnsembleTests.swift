import Foundation
import HarkAnalysis
import HarkClassifier
import HarkEngine
import HarkFeatures
import Testing
import TestSupport

/// The shipped ensemble cards (the default pair, the three-network option) against their members'
/// PyTorch fixtures: the window probabilities are the mean of the members' crop averages, each
/// member on its own front-end.
@Suite struct EnsembleTests {
    static func ensemble(_ name: String = TestPaths.pairCardName) throws -> ModelEnsemble {
        try ModelEnsemble.load(cardPath: TestPaths.modelCard(name))
    }

    /// The fixture clips every member's fixture holds (the first n of K's; V's keeps two, for the
    /// 5-MB budget).
    static func sharedClips(_ card: EnsembleCard) throws -> [ParityFixture.Clip] {
        let n = try card.members.map { try ParityFixture.load(String($0.dropLast(5))).clips.count }.min() ?? 0
        return Array(try ParityFixture.load(ParityFixture.shippedModelName).clips.prefix(n))
    }

    /// Per fixture clip, the mean of the members' PyTorch crop-averaged probabilities.
    static func expectedProbabilities(_ card: EnsembleCard, clips: Int) throws -> [[Float]] {
        let members = try card.members.map { try FixtureTensors.load(String($0.dropLast(5))) }
        return try (0..<clips).map { i in
            var sum: [Float] = []
            for tensors in members {
                let p = try #require(tensors["clip\(i).crop_probabilities"]).values
                sum = sum.isEmpty ? p : zip(sum, p).map(+)
            }
            return sum.map { $0 / Float(members.count) }
        }
    }

    @Test func defaultModelIsOneNetwork() throws {
        let located = try ModelLocator.locate(explicit: nil)
        #expect(URL(fileURLWithPath: located).lastPathComponent == "\(TestPaths.defaultCardName).json")
        let model = try ModelEnsemble.load(cardPath: located)
        #expect(model.members.count == 1)
        #expect(model.card == nil, "the default is a model card, not an ensemble card")
    }

    @Test(arguments: TestPaths.ensembleCardNames) func windowProbabilitiesAreTheMeanOfThePyTorchMembers(name: String) throws {
        let model = try Self.ensemble(name)
        let card = try #require(model.card)
        #expect(model.members.count == card.members.count && model.members.count >= 2)
        #expect(model.sampleRate == model.members.map(\.card.frontend.logMel.sampleRate).max())
        let classifier = try Classifier(model: model)
        let shared = try Self.sharedClips(card)
        #expect(shared.count >= 2)
        let expectedPerClip = try Self.expectedProbabilities(card, clips: shared.count)
        for (i, clip) in shared.enumerated() {
            let audio = try PreparedAudio.load(path: TestPaths.esc50Clip(clip.file), sampleRate: classifier.sampleRate)
            let window = WindowSlicer(windowSamples: classifier.windowSamples, hopSamples: 1).window(audio.samples, start: 0)
            let prediction = try classifier.classify(window: window, topK: 3, taps: ["layer4"])
            let expected = expectedPerClip[i]
            let worst = maxAbsDifference(prediction.probabilities, expected)
            #expect(worst <= 1e-3, "\(clip.file): ensemble probabilities max |Δ| = \(worst)")
            let best = expected.indices.max { expected[$0] < expected[$1] }
            #expect(prediction.top[0].index == best)
            // Feature maps are the first member's, under its layer names.
            let map = try #require(prediction.featureMaps["layer4"])
            #expect(map.shape.channels == model.primary.card.architecture.widths.last)
        }
    }

    /// The detector's evidence: the crops inside the window, at the same places for every member
    /// (K, M and mx2: 108 of 216 frames, V and the finer input's: 216 of 431), the ensemble's crop k
    /// the members' mean of crop k.
    @Test(arguments: TestPaths.ensembleCardNames) func cropsInsideTheWindowAreTheMembersMeanCropByCrop(name: String) throws {
        let model = try Self.ensemble(name)
        let classifier = try Classifier(model: model)
        let fixture = try ParityFixture.load(ParityFixture.shippedModelName)
        let audio = try PreparedAudio.load(path: TestPaths.esc50Clip(fixture.clips[0].file), sampleRate: classifier.sampleRate)
        let window = WindowSlicer(windowSamples: classifier.windowSamples, hopSamples: 1).window(audio.samples, start: 0)
        let crops = try classifier.classify(window: window).crops
        // 8 crops of half a window start every eighth of it; the first five do not wrap around.
        #expect(crops.count == 5)
        for (k, crop) in crops.enumerated() {
            #expect(abs(crop.start - 0.625 * Double(k)) < 0.03 && abs(crop.end - crop.start - 2.5) < 0.03, "crop \(k): \(crop.start)-\(crop.end)")
            #expect(abs(crop.probabilities.reduce(0, +) - 1) < 1e-3)
        }
        var memberCrops: [[CropScore]] = []
        for member in model.members {
            let alone = try Classifier(model: ModelEnsemble(member))
            let own = try MemberScorer.window(window, from: classifier.sampleRate, to: member.card.frontend.logMel)
            let padded = WindowSlicer(windowSamples: alone.windowSamples, hopSamples: 1).window(own, start: 0)
            memberCrops.append(try alone.classify(window: padded).crops)
        }
        for k in crops.indices {
            let mean = crops[k].probabilities.indices.map { c in memberCrops.map { $0[k].probabilities[c] }.reduce(0, +) / Float(memberCrops.count) }
            #expect(maxAbsDifference(crops[k].probabilities, mean) < 1e-5, "crop \(k)")
        }
        // The members' crops differ from one another: the mean is not one member's copy.
        #expect(maxAbsDifference(memberCrops[0][0].probabilities, memberCrops[1][0].probabilities) > 1e-3)
    }

    /// Each shipped ensemble card carries the detector settings fitted for it (docs/detection.md),
    /// for every class, and they are valid settings for its labels.
    @Test(arguments: TestPaths.ensembleCardNames) func eachEnsembleCardCarriesItsFittedDetection(name: String) throws {
        let model = try Self.ensemble(name)
        let detection = try #require(model.detection)
        #expect(Set(detection.thresholds?.keys.map { $0 } ?? []) == Set(model.labels.map(\.name)))
        #expect(detection.fitted?.contains("fit.py") == true)
        for (label, t) in detection.thresholds ?? [:] {
            #expect(t.on > 0 && t.on <= 1 && t.off <= t.on, "\(label): \(t)")
        }
        // An ensemble's averaged scores are calibrated as one: its own section, not its first member's
        // (K's card has one for K alone; mx2's has none).
        #expect(detection != model.members[0].card.detection)
        #expect(ModelEnsemble(model.members[0]).detection == model.members[0].card.detection)
    }

    @Test(arguments: TestPaths.ensembleCardNames) func evaluatorScoresTheEnsembleLikePyTorch(name: String) throws {
        let model = try Self.ensemble(name)
        let card = try #require(model.card)
        let shared = try Self.sharedClips(card)
        let clips = try ESC50.clips(root: TestPaths.esc50.path, folds: [5]).filter { c in shared.contains { c.path.hasSuffix($0.file) } }
        #expect(clips.count == shared.count && shared.count >= 2)
        var hits = 0
        let expected = try Self.expectedProbabilities(card, clips: shared.count)
        for (clip, p) in zip(shared, expected) {
            if p.indices.max(by: { p[$0] < p[$1] }) == clip.target { hits += 1 }
        }
        let report = try Evaluator.run(model: model, clips: clips, folds: [5], workers: 2)
        #expect(report.failed.isEmpty && report.clips == clips.count)
        #expect(abs(report.top1 - Double(hits) / Double(clips.count)) < 1e-9)
    }

    @Test func oneLogMelCannotFeedAnEnsemble() throws {
        let classifier = try Classifier(model: try Self.ensemble())
        #expect(throws: ClassifierError.ensembleNeedsAudio(model: TestPaths.pairCardName, members: 2)) {
            _ = try classifier.classify(logMel: [Float](repeating: 0, count: 64 * 216))
        }
    }

    @Test func aWindowOfTheWrongLengthOrRateIsAnError() throws {
        let classifier = try Classifier(model: try Self.ensemble())
        #expect(throws: FeatureError.self) { _ = try classifier.classify(window: [Float](repeating: 0, count: 1000)) }
        let dir = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let wav = try WAVWriter.write(WAVWriter.tone(frequency: 440, seconds: 5, rate: 22_050), rate: 22_050,
                                      to: dir.appendingPathComponent("tone.wav"))
        let audio = try PreparedAudio.load(path: wav.path, sampleRate: 22_050)
        #expect(throws: ClassifierError.wrongSampleRate(expected: 44_100, got: 22_050)) {
            _ = try classifier.classify(file: audio, hopSeconds: 1)
        }
    }

    /// A folder holding an ensemble card over copies of the shipped member's card (weights linked).
    func ensembleFolder(members: [String: [String: Any]], absent: [String] = []) throws -> URL {
        let dir = try TestPaths.temporaryDirectory("hark-ensemble")
        let weights = URL(fileURLWithPath: TestPaths.shippedModelCard).deletingPathExtension().appendingPathExtension("safetensors")
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("weights.safetensors"), withDestinationURL: weights)
        for (name, card) in members {
            try JSONSerialization.data(withJSONObject: card).write(to: dir.appendingPathComponent(name))
        }
        let ensemble: [String: Any] = ["format": EnsembleCard.format, "name": "test-ensemble",
                                       "members": members.keys.sorted() + absent]
        try JSONSerialization.data(withJSONObject: ensemble).write(to: dir.appendingPathComponent("ensemble.json"))
        return dir
    }

    func memberCard(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> [String: Any] {
        var card = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestPaths.shippedModelCard))) as? [String: Any])
        card["weights"] = ["file": "weights.safetensors", "dtype": "float32"]
        edit(&card)
        return card
    }

    @Test func membersMustAgreeOnTheLabels() throws {
        let renamed = try memberCard { card in
            var labels = card["labels"] as? [[String: Any]] ?? []
            labels[0]["name"] = "not-a-dog"
            card["labels"] = labels
        }
        let dir = try ensembleFolder(members: ["a.json": try memberCard(), "b.json": renamed])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            _ = try ModelEnsemble.load(cardPath: dir.appendingPathComponent("ensemble.json").path)
        } throws: { String(describing: $0).contains("labels differ") }
        // The same two members with equal labels load, at the members' common rate.
        let same = try ensembleFolder(members: ["a.json": try memberCard(), "b.json": try memberCard()])
        defer { try? FileManager.default.removeItem(at: same) }
        let loaded = try ModelEnsemble.load(cardPath: same.appendingPathComponent("ensemble.json").path)
        #expect(loaded.members.count == 2 && loaded.sampleRate == loaded.primary.card.frontend.logMel.sampleRate)
    }

    @Test func aMemberMayNotBeAnEnsemble() throws {
        let inner: [String: Any] = ["format": EnsembleCard.format, "name": "inner", "members": ["a.json"]]
        let dir = try ensembleFolder(members: ["a.json": try memberCard(), "inner.json": inner])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            _ = try ModelEnsemble.load(cardPath: dir.appendingPathComponent("ensemble.json").path)
        } throws: { String(describing: $0).contains("inner.json is itself an ensemble") }
    }

    @Test func aMissingMemberIsNamed() throws {
        let dir = try ensembleFolder(members: ["a.json": try memberCard()], absent: ["missing.json"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            _ = try ModelEnsemble.load(cardPath: dir.appendingPathComponent("ensemble.json").path)
        } throws: { String(describing: $0).contains("missing.json") }
    }
}
