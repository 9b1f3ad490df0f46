import ArgumentParser
import Foundation
import HarkAnalysis
import HarkEngine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time each stage (decode, resample, log-mel, model) per window: p50/p99, 1 thread and all cores.",
        discussion: """
            The model line reports its MAC count and achieved GFLOP/s, beside OpenBLAS's own sgemm peak.
            OpenBLAS honours OPENBLAS_CORETYPE; the kernel that ran is printed.
            """)

    @Option(name: .long, help: "Model card. Default: $HARK_MODEL, else Models/hark-esc50.json.")
    var model: String?

    @Option(help: "Audio file to time (its first window).")
    var file: String?

    @Option(help: "Timed runs per stage.")
    var runs: Int = 100

    @Option(name: .customLong("max-threads"), help: "Thread count of the multi-threaded model run; default: all cores.")
    var maxThreads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let model = try ModelOptions.parse(self.model.map { ["--model", $0] } ?? []).load()
        guard let input = file ?? DemoAudio.locate() else {
            throw CommandFailure(description: "no --file given and no bundled demo audio found")
        }
        let report = try Benchmark.run(model: model, file: input, runs: max(5, runs), maxThreads: max(1, maxThreads))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("model \(report.model): \(String(format: "%.3f", Double(report.macs) / 1e9)) GMAC per window; OpenBLAS kernel \(report.blasCore)")
        print("input \(report.input)")
        print("stage                              threads     p50 ms     p99 ms    mean ms")
        for s in report.stages {
            print(String(format: "%-34@ %7d %10.3f %10.3f %10.3f", s.stage, s.threads, s.p50Milliseconds, s.p99Milliseconds, s.meanMilliseconds))
        }
        for (threads, g) in report.modelGFLOPS.sorted(by: { $0.key < $1.key }) {
            let peak = report.sgemmPeakGFLOPS[threads] ?? .nan
            print(String(format: "model at %@ thread(s): %.1f GFLOP/s = %.0f %% of sgemm peak (%.1f GFLOP/s)", threads, g, g / peak * 100, peak))
        }
    }
}
