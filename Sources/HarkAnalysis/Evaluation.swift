import Dispatch
import Foundation
import HarkClassifier
import HarkEngine
import Synchronization

/// Accuracy of a model on ESC-50 folds, computed by the same decode → log-mel → model path as
/// `hark classify`.
public struct EvaluationReport: Sendable, Codable {
    public struct ClassRecall: Sendable, Codable {
        public var label: String
        public var recall: Double
        public var clips: Int
    }

    public struct ConfusedPair: Sendable, Codable {
        public var actual: String
        public var predicted: String
        public var count: Int
    }

    public var folds: [Int]
    public var clips: Int
    public var failed: [String]
    public var top1: Double
    public var top5: Double
    public var perClassRecall: [ClassRecall]
    public var mostConfused: [ConfusedPair]
    public var seconds: Double
    public var clipsPerSecond: Double
    public var workers: Int

    enum CodingKeys: String, CodingKey {
        case folds, clips, failed, top1 = "top1", top5 = "top5", perClassRecall = "per_class_recall"
        case mostConfused = "most_confused", seconds, clipsPerSecond = "clips_per_second", workers
    }
}

public enum Evaluator {
    /// Classifies every clip of `folds` with `workers` parallel classifiers. Run BLAS at 1 thread
    /// (`BLASThreads.set(1)`, as `hark eval` does): whole clips in parallel scale better than BLAS
    /// threads. Not set here: changing OpenBLAS's thread count while another thread is inside a
    /// BLAS call is not safe, and the caller knows whether one can be.
    public static func run(model: ModelEnsemble, clips: [ESC50Clip], folds: [Int], workers: Int) throws -> EvaluationReport {
        let workers = max(1, min(workers, clips.count))
        let started = DispatchTime.now()
        let results = Mutex<[Int: Result<[Int], Error>]>([:])  // clip index → classes by descending score
        let firstError = Mutex<Error?>(nil)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let classifier: Classifier
            do {
                classifier = try Classifier(model: model)
            } catch {
                firstError.withLock { $0 = $0 ?? error }
                return
            }
            for i in stride(from: worker, to: clips.count, by: workers) {
                let outcome = Result<[Int], Error>(catching: {
                    let audio = try PreparedAudio.load(path: clips[i].path, sampleRate: classifier.sampleRate)
                    let window = WindowSlicer(windowSamples: classifier.windowSamples, hopSamples: 1)
                        .window(audio.samples, start: 0)
                    let p = try classifier.classify(window: window, topK: 5).top
                    return p.map(\.index)
                })
                results.withLock { $0[i] = outcome }
            }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        let labels = model.labels.map(\.name)
        var top1 = 0, top5 = 0, scored = 0
        var failed: [String] = []
        var perClass = [Int](repeating: 0, count: labels.count), perClassHits = [Int](repeating: 0, count: labels.count)
        var confusion: [String: Int] = [:]
        let all = results.withLock { $0 }
        for (i, clip) in clips.enumerated() {
            guard case .success(let ranked)? = all[i], let best = ranked.first else {
                if case .failure(let error)? = all[i] { failed.append("\(error)") }
                continue
            }
            scored += 1
            perClass[clip.target] += 1
            if best == clip.target {
                top1 += 1
                perClassHits[clip.target] += 1
            } else {
                confusion["\(labels[clip.target])\t\(labels[best])", default: 0] += 1
            }
            if ranked.prefix(5).contains(clip.target) { top5 += 1 }
        }
        let recall = labels.indices.filter { perClass[$0] > 0 }.map {
            EvaluationReport.ClassRecall(label: labels[$0], recall: Double(perClassHits[$0]) / Double(perClass[$0]),
                                         clips: perClass[$0])
        }
        let confused = confusion.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map {
            let parts = $0.key.split(separator: "\t")
            return EvaluationReport.ConfusedPair(actual: String(parts[0]), predicted: String(parts[1]), count: $0.value)
        }
        return EvaluationReport(folds: folds, clips: scored, failed: failed,
                                top1: scored > 0 ? Double(top1) / Double(scored) : 0,
                                top5: scored > 0 ? Double(top5) / Double(scored) : 0,
                                perClassRecall: recall, mostConfused: Array(confused), seconds: seconds,
                                clipsPerSecond: Double(clips.count) / seconds, workers: workers)
    }
}
