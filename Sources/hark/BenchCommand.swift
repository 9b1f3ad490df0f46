import ArgumentParser
import Foundation
import HarkAnalysis
import HarkClassifier
import HarkEngine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time each stage (decode, resample, log-mel, model) per window: p50/p99, 1 thread and all cores.",
        discussion: """
            The model line reports its MAC count and achieved GFLOP/s, beside OpenBLAS's own sgemm peak.
            OpenBLAS honours OPENBLAS_CORETYPE; the kernel that ran is printed.
            --probe times every convolution algorithm on each layer shape; --compare times the whole
            model under each convolution policy, interleaved in one process.
            """)

    @Option(name: .long, help: "Model card. Default: \(ModelLocator.defaultSource).")
    var model: String?

    @Option(help: "Audio file to time (its first window).")
    var file: String?

    @Option(help: "Timed runs per stage.")
    var runs: Int = 100

    @Option(name: .customLong("max-threads"), help: "Thread count of the multi-threaded model run; default: all cores.")
    var maxThreads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Convolution policy: auto, winograd-f2, winograd-f4, winograd-f6, im2col.")
    var convolution: String = "auto"

    @Flag(help: "Also time each convolution algorithm on every layer shape (1 thread).")
    var probe = false

    @Flag(help: "Only compare the convolution policies on the whole model, interleaved (1 thread and --max-threads).")
    var compare = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    static let policies: [String: ConvolutionPolicy] = [
        "auto": .automatic, "winograd-f2": .winograd(.f2), "winograd-f4": .winograd(.f4), "winograd-f6": .winograd(.f6),
        "im2col": .im2colOnly,
    ]

    func run() throws {
        let path = try ModelLocator.locate(explicit: model)
        guard let policy = Self.policies[convolution] else {
            throw ValidationError("--convolution must be one of \(Self.policies.keys.sorted().joined(separator: ", "))")
        }
        warnIfGenericBLASKernel()
        if compare { return try runComparison(path) }
        let model = try ModelEnsemble.load(cardPath: path, policy: policy)
        guard let input = file ?? DemoAudio.locate() else {
            throw CommandFailure(description: "no --file given and no bundled demo audio found")
        }
        var report = try Benchmark.run(model: model, file: input, runs: max(5, runs), maxThreads: max(1, maxThreads))
        if probe {
            BLASThreads.set(1)
            report.convolutionProbe = model.members.flatMap { $0.probeConvolutions(runs: max(5, runs / 2)) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("model \(report.model): \(report.modelInput) input, \(String(format: "%.3f", Double(report.macs) / 1e9)) GMAC per window; OpenBLAS kernel \(report.blasCore)")
        print("input \(report.input)")
        let width = max(34, report.stages.map(\.stage.count).max() ?? 0)
        print(pad("stage", width) + " threads     p50 ms     p99 ms    mean ms  CPU p50 ms")
        for s in report.stages {
            let cpu = s.cpuP50Milliseconds.map { String(format: " %10.3f", $0) } ?? ""
            print(pad(s.stage, width) + String(format: " %7d %10.3f %10.3f %10.3f", s.threads, s.p50Milliseconds, s.p99Milliseconds, s.meanMilliseconds) + cpu)
        }
        for (key, g) in report.modelGFLOPS.sorted(by: { $0.key < $1.key }) {
            let peak = report.sgemmPeakGFLOPS[key] ?? .nan
            print(String(format: "model (%@ thread(s)): %.1f GFLOP/s = %.0f %% of sgemm peak (%.1f GFLOP/s)", key, g, g / peak * 100, peak))
        }
        print("convolutions:")
        for c in report.convolutions where c.count == 2 { print("  " + pad(c[0], 26) + " " + c[1]) }
        if let probe = report.convolutionProbe {
            print("per-layer candidates, 1 thread, p50 ms (* = chosen):")
            for t in probe {
                print("  " + pad(t.layer, 26) + pad(" \(t.kernel)×\(t.kernel)/\(t.stride) \(t.input)→\(t.outChannels)", 26)
                      + pad(" " + t.algorithm, 22) + String(format: " %8.3f %@", t.p50Milliseconds, t.chosen ? "*" : ""))
            }
        }
    }

    private func runComparison(_ path: String) throws {
        let names = ["auto", "winograd-f4", "winograd-f6", "im2col"]
        var models: [(String, ResNet)] = []
        for name in names {
            guard let p = Self.policies[name] else { continue }
            let loaded = try ModelEnsemble.load(cardPath: path, policy: p)
            for network in loaded.members {
                models.append((loaded.members.count > 1 ? "\(name), \(network.card.name)" : name, network))
            }
        }
        print(pad("model under policy", 34) + " threads     p50 ms     p99 ms  CPU p50 ms")
        for threads in Array(Set([1, max(1, maxThreads)])).sorted() {
            for s in try Benchmark.comparePolicies(models, runs: max(5, runs), threads: threads) {
                let cpu = s.cpuP50Milliseconds.map { String(format: " %10.3f", $0) } ?? ""
                print(pad(s.stage, 34) + String(format: " %7d %10.3f %10.3f", s.threads, s.p50Milliseconds, s.p99Milliseconds) + cpu)
            }
        }
    }

    /// Left-justifies in `width` columns (String(format:) ignores widths on %@ here).
    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
