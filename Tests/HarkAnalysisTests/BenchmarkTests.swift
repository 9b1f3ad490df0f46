import HarkAnalysis
import HarkClassifier
import Testing
import TestSupport

/// `hark bench`'s rows: what each one counts and where the multi-threaded ones go.
@Suite struct BenchmarkTests {
    @Test func aSingleNetworksVerdictCountsItsLogMelAndTheParallelRowStaysInPlace() throws {
        let model = try ModelEnsemble.load(cardPath: TestPaths.modelCard("hark-esc50-hires-nt"))
        let report = try Benchmark.run(model: model, file: TestPaths.esc50Clip("1-100032-A-0.ogg"), runs: 3, maxThreads: 2)
        let names = report.stages.map(\.stage)
        let modelRows = report.stages.indices.filter { names[$0] == "model" }
        #expect(modelRows.map { report.stages[$0].threads } == [1, 2])
        #expect(modelRows.count == 2 && modelRows[1] == modelRows[0] + 1)
        let logMel = try #require(report.stages.first { $0.stage.hasPrefix("log-mel") })
        let verdict = try #require(report.stages.first { $0.stage.hasPrefix("window verdict") })
        #expect(verdict.stage == "window verdict (8 × 216 frames; log-mel included)")
        // Eight crops of half the window and the log-mel cost more than the log-mel alone.
        #expect(verdict.p50Milliseconds > logMel.p50Milliseconds)
    }

    @Test func anEnsemblesVerdictNamesItsNetworks() throws {
        let model = try ModelEnsemble.load(cardPath: TestPaths.modelCard("hark-esc50-pair-nt"))
        let report = try Benchmark.run(model: model, file: TestPaths.esc50Clip("1-100032-A-0.ogg"), runs: 2, maxThreads: 1)
        let verdicts = report.stages.filter { $0.stage.hasPrefix("window verdict") }
        #expect(verdicts.map(\.stage) == ["window verdict (2 networks; crops 8 × 108 + 8 × 216; log-mels included)"])
        #expect(report.stages.allSatisfy { $0.threads == 1 })
    }
}
