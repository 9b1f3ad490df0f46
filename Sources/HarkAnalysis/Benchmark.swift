import COpenBLAS
import Dispatch
import Foundation
import HarkAudio
import HarkClassifier
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
    /// Median CPU time of the timing thread, for single-threaded stages: unlike wall time it does not
    /// grow while other processes hold the core, so it compares runs on a loaded machine.
    public var cpuP50Milliseconds: Double?

    enum CodingKeys: String, CodingKey {
        case stage, threads, runs, p50Milliseconds = "p50_ms", p99Milliseconds = "p99_ms", meanMilliseconds = "mean_ms"
        case cpuP50Milliseconds = "cpu_p50_ms"
    }

    init(stage: String, threads: Int, samples: [Double], cpuSamples: [Double]? = nil) {
        if let cpu = cpuSamples?.sorted(), !cpu.isEmpty { cpuP50Milliseconds = Percentile.nearestRank(cpu, 0.5) * 1e3 }
        let sorted = samples.sorted()
        self.stage = stage
        self.threads = threads
        runs = sorted.count
        p50Milliseconds = Percentile.nearestRank(sorted, 0.5) * 1e3
        p99Milliseconds = Percentile.nearestRank(sorted, 0.99) * 1e3
        meanMilliseconds = sorted.reduce(0, +) / Double(sorted.count) * 1e3
    }
}

public struct BenchmarkReport: Sendable, Codable {
    public var model: String
    public var input: String
    /// Model input: 1 × n_mels × frames.
    public var modelInput: String
    public var macs: Int
    public var blasCore: String
    /// How each convolution runs (layer name → algorithm), in execution order.
    public var convolutions: [[String]]
    public var stages: [StageTiming]
    /// Achieved GFLOP/s of the model stage (2 FLOPs per MAC) per thread count.
    public var modelGFLOPS: [String: Double]
    /// OpenBLAS sgemm on a large square product, GFLOP/s per thread count: the machine's practical peak.
    public var sgemmPeakGFLOPS: [String: Double]

    enum CodingKeys: String, CodingKey {
        case model, input, modelInput = "model_input", macs, blasCore = "blas_core", convolutions, stages
        case modelGFLOPS = "model_gflops", sgemmPeakGFLOPS = "sgemm_peak_gflops"
        case convolutionProbe = "convolution_probe"
    }

    /// Per-layer candidate timings (`hark bench --probe`), when requested.
    public var convolutionProbe: [ConvolutionTiming]?
}

public enum Benchmark {
    static func time(_ runs: Int, _ body: () throws -> Void) rethrows -> [Double] {
        try (0..<runs).map { _ in
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
    }

    /// Wall and calling-thread CPU seconds of each run.
    static func timeWithCPU(_ runs: Int, _ body: () throws -> Void) rethrows -> (wall: [Double], cpu: [Double]) {
        var wall: [Double] = [], cpu: [Double] = []
        for _ in 0..<runs {
            let c0 = threadCPUTime(), t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            wall.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            cpu.append(threadCPUTime() - c0)
        }
        return (wall, cpu)
    }

    /// Times decode, resample, log-mel and model on `file` (its first window), `runs` times each;
    /// the model at 1 thread and (after every 1-thread row) at `maxThreads`. An ensemble's members
    /// are timed one by one (stage names carry the member's name), then the whole window verdict.
    public static func run(model: ModelEnsemble, file: String, runs: Int, maxThreads: Int) throws -> BenchmarkReport {
        let rate = model.sampleRate
        let named = model.members.count > 1
        var stages: [StageTiming] = []
        var decoded = try AudioFileDecoder.decode(path: file)
        let decodeRuns = max(5, runs / 4)
        stages.append(StageTiming(stage: "decode (\(String(format: "%.1f", decoded.durationSeconds)) s file)", threads: 1,
                                  samples: try time(decodeRuns) { decoded = try AudioFileDecoder.decode(path: file) }))
        let mono = decoded.mono()
        var resampled: [Float] = mono
        stages.append(StageTiming(stage: "resample \(decoded.sampleRate)→\(rate) Hz", threads: 1,
                                  samples: try time(runs) {
                                      resampled = try Resampler.resample(mono, from: Double(decoded.sampleRate), to: Double(rate))
                                  }))
        let classifier = try Classifier(model: model)
        let window = WindowSlicer(windowSamples: classifier.windowSamples, hopSamples: 1).window(resampled, start: 0)
        var gflops: [String: Double] = [:]
        var peaks: [String: Double] = [:]
        var shapes: [String] = [], convolutions: [[String]] = [], macs = 0
        let initialThreads = BLASThreads.current
        defer { BLASThreads.set(initialThreads) }
        // The multi-threaded model rows run last: BLAS's worker threads keep spinning for a while
        // after a parallel call, and on a small machine they would slow every 1-thread row after it.
        var multiThreaded: [(row: Int, time: (Int) throws -> StageTiming)] = []
        for network in model.members {
            let p = network.card.frontend.logMel
            let suffix = named ? ", \(network.card.name)" : ""
            var own = window
            if p.sampleRate != rate {
                stages.append(StageTiming(stage: "resample window \(rate)→\(p.sampleRate) Hz\(suffix)", threads: 1,
                                          samples: try time(runs) { own = try MemberScorer.window(window, from: rate, to: p) }))
            }
            let logMel = try LogMelSpectrogram(parameters: p)
            var mel: [Float] = []
            try logMel.compute(own, into: &mel)
            let melTimes = try timeWithCPU(runs) { try logMel.compute(own, into: &mel) }
            stages.append(StageTiming(stage: "log-mel \(p.nMels)×\(p.frames)\(suffix)", threads: 1, samples: melTimes.wall,
                                      cpuSamples: melTimes.cpu))
            let session = network.makeSession()
            let networkMACs = network.macs()
            let timeModel = { (threads: Int) throws -> StageTiming in
                BLASThreads.set(threads)
                for _ in 0..<5 { _ = try session.run(logMel: mel) }  // warm caches and BLAS buffers
                let times = try timeWithCPU(runs) { _ = try session.run(logMel: mel) }
                // With more threads the work leaves the calling thread: its CPU time means nothing.
                let t = StageTiming(stage: "model\(suffix)", threads: threads, samples: times.wall,
                                    cpuSamples: threads == 1 ? times.cpu : nil)
                let key = named ? "\(network.card.name), \(threads)" : "\(threads)"
                gflops[key] = 2 * Double(networkMACs) / (t.p50Milliseconds / 1e3) / 1e9
                peaks[key] = sgemmPeak()
                return t
            }
            stages.append(try timeModel(1))
            if maxThreads > 1 { multiThreaded.append((stages.count, timeModel)) }
            shapes.append(session.inputShape.description)
            convolutions += session.convolutionPlan.map { [named ? "\(network.card.name)/\($0.layer)" : $0.layer, $0.algorithm] }
            macs += networkMACs
        }
        // What a window's verdict costs under the card's protocol, from the window as capture hands it
        // over: every network's log-mel (and resample, for an ensemble member at another rate) and
        // the mean over its crops — counted alike for one network and for an ensemble, so the two
        // rows compare.
        let crops = model.members.compactMap(\.card.crops)
        if named || !crops.isEmpty {
            BLASThreads.set(1)
            let cropText = crops.map { "\($0.count) × \($0.frames)" }.joined(separator: " + ")
            let stage = named
                ? "window verdict (\(model.members.count) networks; crops \(cropText); log-mels included)"
                : "window verdict (\(cropText) frames; log-mel included)"
            let verdict = { _ = try classifier.classify(window: window) }
            for _ in 0..<3 { try verdict() }
            let times = try timeWithCPU(runs) { try verdict() }
            stages.append(StageTiming(stage: stage, threads: 1, samples: times.wall, cpuSamples: times.cpu))
            // Live with `--crop-placement stream` at the cards' hop: each window a hop after the last
            // scores one new crop per member; its resample and log-mel are counted too.
            let live = try Classifier(model: model)
            let hop = rate / 2
            live.placeCrops(.stream, hopSamples: hop)
            var end = window.count
            for _ in 0..<3 {
                end += hop
                _ = try live.classify(streamWindow: window, endingAt: end, start: 0)
            }
            let liveTimes = try timeWithCPU(runs) {
                end += hop
                _ = try live.classify(streamWindow: window, endingAt: end, start: 0)
            }
            stages.append(StageTiming(stage: "live window verdict, crops on the stream (hop 0.5 s, with log-mel)", threads: 1,
                                      samples: liveTimes.wall, cpuSamples: liveTimes.cpu))
        }
        for (row, time) in multiThreaded.reversed() { stages.insert(try time(maxThreads), at: row) }
        return BenchmarkReport(model: model.name, input: file, modelInput: shapes.joined(separator: " + "), macs: macs,
                               blasCore: BLASKernel.current, convolutions: convolutions,
                               stages: stages, modelGFLOPS: gflops, sgemmPeakGFLOPS: peaks)
    }

    /// The model alone under several convolution policies, interleaved run by run in one process
    /// (an A/B that a loaded machine slows alike). Returns p50/p99 per policy.
    public static func comparePolicies(_ models: [(String, ResNet)], runs: Int, threads: Int) throws -> [StageTiming] {
        let initialThreads = BLASThreads.current
        defer { BLASThreads.set(initialThreads) }
        BLASThreads.set(threads)
        let sessions = models.map { $0.1.makeSession() }
        let input = [Float](repeating: -40, count: sessions.first?.inputShape.count ?? 0)
        var samples = [[Double]](repeating: [], count: models.count), cpu = samples
        for r in 0..<(runs + 3) {
            for (i, session) in sessions.enumerated() {
                let c0 = threadCPUTime(), t0 = DispatchTime.now().uptimeNanoseconds
                _ = try session.run(logMel: input)
                if r >= 3 {
                    samples[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                    cpu[i].append(threadCPUTime() - c0)
                }
            }
        }
        return models.indices.map {
            StageTiming(stage: "model, \(models[$0].0)", threads: threads, samples: samples[$0],
                        cpuSamples: threads == 1 ? cpu[$0] : nil)
        }
    }

    /// Best-of-7 GFLOP/s of a 1024³ sgemm with the current BLAS thread count; at one thread timed in
    /// the calling thread's CPU time, which a loaded machine does not inflate.
    static func sgemmPeak(size n: Int = 1024) -> Double {
        let a = [Float](repeating: 1, count: n * n), b = [Float](repeating: 0.5, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        let oneThread = BLASThreads.current == 1
        var best = Double.infinity
        for _ in 0..<7 {
            let c0 = threadCPUTime(), t0 = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
            let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = min(best, oneThread ? threadCPUTime() - c0 : wall)
        }
        return 2 * pow(Double(n), 3) / best / 1e9
    }
}
