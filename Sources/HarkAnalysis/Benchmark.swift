import COpenBLAS
import Dispatch
import Foundation
import HarkAudio
import HarkEngine
import HarkFeatures

/// Latency distribution of one pipeline stage.
public struct StageTiming: Sendable, Codable {
    public var stage: String
    public var threads: Int
    public var runs: Int
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    public var meanMilliseconds: Double

    enum CodingKeys: String, CodingKey {
        case stage, threads, runs, p50Milliseconds = "p50_ms", p99Milliseconds = "p99_ms", meanMilliseconds = "mean_ms"
    }

    init(stage: String, threads: Int, samples: [Double]) {
        let sorted = samples.sorted()
        self.stage = stage
        self.threads = threads
        runs = sorted.count
        p50Milliseconds = sorted[sorted.count / 2] * 1e3
        p99Milliseconds = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)] * 1e3
        meanMilliseconds = sorted.reduce(0, +) / Double(sorted.count) * 1e3
    }
}

public struct BenchmarkReport: Sendable, Codable {
    public var model: String
    public var input: String
    public var macs: Int
    public var blasCore: String
    public var stages: [StageTiming]
    /// Achieved GFLOP/s of the model stage (2 FLOPs per MAC) per thread count.
    public var modelGFLOPS: [String: Double]
    /// OpenBLAS sgemm on a large square product, GFLOP/s per thread count: the machine's practical peak.
    public var sgemmPeakGFLOPS: [String: Double]

    enum CodingKeys: String, CodingKey {
        case model, input, macs, blasCore = "blas_core", stages
        case modelGFLOPS = "model_gflops", sgemmPeakGFLOPS = "sgemm_peak_gflops"
    }
}

public enum Benchmark {
    static func time(_ runs: Int, _ body: () throws -> Void) rethrows -> [Double] {
        try (0..<runs).map { _ in
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
    }

    /// Times decode, resample, log-mel and model on `file` (its first window), `runs` times each;
    /// the model at 1 thread and at `maxThreads`.
    public static func run(model: ResNet, file: String, runs: Int, maxThreads: Int) throws -> BenchmarkReport {
        let p = model.card.frontend.logMel
        var stages: [StageTiming] = []
        var decoded = try AudioFileDecoder.decode(path: file)
        let decodeRuns = max(5, runs / 4)
        stages.append(StageTiming(stage: "decode (\(String(format: "%.1f", decoded.durationSeconds)) s file)", threads: 1,
                                  samples: try time(decodeRuns) { decoded = try AudioFileDecoder.decode(path: file) }))
        let mono = decoded.mono()
        var resampled: [Float] = mono
        stages.append(StageTiming(stage: "resample \(decoded.sampleRate)→\(p.sampleRate) Hz", threads: 1,
                                  samples: try time(runs) {
                                      resampled = try Resampler.resample(mono, from: Double(decoded.sampleRate), to: Double(p.sampleRate))
                                  }))
        let window = WindowSlicer(windowSamples: p.windowSamples, hopSamples: 1).window(resampled, start: 0)
        let logMel = try LogMelSpectrogram(parameters: p)
        var mel: [Float] = []
        try logMel.compute(window, into: &mel)
        stages.append(StageTiming(stage: "log-mel \(p.nMels)×\(p.frames)", threads: 1,
                                  samples: try time(runs) { try logMel.compute(window, into: &mel) }))
        var gflops: [String: Double] = [:]
        var peaks: [String: Double] = [:]
        let session = model.makeSession()
        let macs = model.macs()
        for threads in Array(Set([1, maxThreads])).sorted() {
            BLASThreads.set(threads)
            for _ in 0..<3 { _ = try session.run(logMel: mel) }  // warm caches and BLAS buffers
            let t = StageTiming(stage: "model", threads: threads, samples: try time(runs) { _ = try session.run(logMel: mel) })
            stages.append(t)
            gflops["\(threads)"] = 2 * Double(macs) / (t.p50Milliseconds / 1e3) / 1e9
            peaks["\(threads)"] = sgemmPeak()
        }
        return BenchmarkReport(model: model.card.name, input: file, macs: macs, blasCore: BLASThreads.coreName,
                               stages: stages, modelGFLOPS: gflops, sgemmPeakGFLOPS: peaks)
    }

    /// Best-of-5 GFLOP/s of a 1024³ sgemm with the current BLAS thread count.
    static func sgemmPeak(size n: Int = 1024) -> Double {
        let a = [Float](repeating: 1, count: n * n), b = [Float](repeating: 0.5, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        let best = time(5) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
        }.min() ?? 1
        return 2 * pow(Double(n), 3) / best / 1e9
    }
}
