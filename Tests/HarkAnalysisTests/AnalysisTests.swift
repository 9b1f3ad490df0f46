import Foundation
import HarkAnalysis
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

/// `hark eval`'s engine on a handful of fold-5 clips.
@Suite struct EvaluatorTests {
    @Test func reportIsConsistentAndMatchesThePyTorchVerdicts() throws {
        let model = try ResNet.load(cardPath: TestPaths.shippedModelCard)
        let fixture = try ParityFixture.load(ParityFixture.shippedModelName)
        let all = try ESC50.clips(root: TestPaths.esc50.path, folds: [5])
        #expect(all.count == 400)
        let clips = all.filter { c in fixture.clips.contains { c.path.hasSuffix($0.file) } }
        #expect(clips.count == fixture.clips.count)
        let report = try Evaluator.run(model: model, clips: clips, folds: [5], workers: 2)
        #expect(report.clips == clips.count && report.failed.isEmpty)
        let expectedHits = fixture.clips.filter { $0.top1 == $0.target }.count
        #expect(abs(report.top1 - Double(expectedHits) / Double(clips.count)) < 1e-9)
        #expect(report.top5 >= report.top1)
        #expect(report.perClassRecall.reduce(0) { $0 + $1.clips } == clips.count)
        #expect(report.mostConfused.reduce(0) { $0 + $1.count } == clips.count - expectedHits)
    }

    @Test func missingDatasetIsExplained() {
        #expect(throws: ESC50Error.self) { try ESC50.clips(root: "/nonexistent") }
    }
}
