import ArgumentParser
import Foundation
import HarkAnalysis
import HarkClassifier

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure accuracy on ESC-50 folds: top-1, top-5, per-class recall, most-confused pairs, clips/s.")

    @Option(name: .long, help: "Model card. Default: \(ModelLocator.defaultSource).")
    var model: String?

    @Option(help: "ESC-50 folder (with meta/esc50.csv and audio/).")
    var data: String = "../shared/datasets/esc50"

    @Option(help: "Folds to evaluate (repeatable). The default model was trained on folds 1-4.")
    var fold: [Int] = [5]

    @Option(help: "Parallel workers (each single-threaded); default: all cores.")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let model = try ModelOptions.parse(self.model.map { ["--model", $0] } ?? []).load()
        let clips = try ESC50.clips(root: data, folds: fold)
        guard !clips.isEmpty else { throw CommandFailure(description: "no clips in folds \(fold) under \(data)") }
        let report = try Evaluator.run(model: model, clips: clips, folds: fold, workers: workers)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(String(format: "ESC-50 folds %@: %d clips", fold.map(String.init).joined(separator: ","), report.clips))
            print(String(format: "top-1 %.2f %%   top-5 %.2f %%", report.top1 * 100, report.top5 * 100))
            let workers = report.workers == 1 ? "1 worker" : "\(report.workers) workers"
            print(String(format: "%.1f s, %.1f clips/s", report.seconds, report.clipsPerSecond) + " (\(workers), decode included)")
            print("\nlowest recall:")
            for r in report.perClassRecall.sorted(by: { $0.recall < $1.recall }).prefix(10) {
                print(String(format: "  %-18@ %5.1f %%", r.label, r.recall * 100))
            }
            print("\nmost confused (actual → predicted):")
            for c in report.mostConfused { print("  \(c.actual) → \(c.predicted): \(c.count)") }
        }
        if !report.failed.isEmpty {
            for f in report.failed { FileHandle.standardError.write(Data("hark eval: \(f)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}
