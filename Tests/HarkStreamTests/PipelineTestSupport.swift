import Foundation
import HarkClassifier
import HarkEngine
import HarkFeatures
@testable import HarkStream
import Synchronization
import TestSupport

/// A subscriber for tests: takes everything its subscription gets, on a thread of its own.
/// `perItemDelay` makes it slow; `failAfter` makes it give up (as stdout closed by `| head`).
final class Collector: Sendable {
    let subscription: LiveSubscription
    private let items = Mutex<[LiveOutput]>([])
    private let done = DispatchSemaphore(value: 0)

    init(_ pipeline: LivePipeline, interest: Interest = .events, delivery: LiveSubscription.Delivery = .lossless,
         capacity: Int = 10_000, perItemDelay: Double = 0, failAfter: Int? = nil) {
        subscription = pipeline.hub.subscribe(interest, delivery: delivery, capacity: capacity)
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            while let item = subscription.next() {
                if perItemDelay > 0 { Thread.sleep(forTimeInterval: perItemDelay) }
                let count = items.withLock { $0.append(item); return $0.count }
                if let failAfter, count >= failAfter {
                    subscription.cancel()
                    pipeline.fail("output closed: test")
                    return
                }
            }
        }
    }

    /// Waits until the subscription ended and everything was taken.
    func drained() async throws {
        let done = done
        try await offThread { done.wait() }
    }

    var all: [LiveOutput] { items.withLock { $0 } }
    var events: [EventMessage] { all.compactMap { if case .event(let e) = $0 { e } else { nil } } }
    var windows: [WindowResult] { all.compactMap { if case .window(let w) = $0 { w } else { nil } } }
    var statuses: [StatusMessage] { all.compactMap { if case .status(let s) = $0 { s } else { nil } } }
}

/// A deterministic classifier behind the pipeline's seam: class `loudClass` scores 0.9 in windows
/// whose RMS is above −20 dBFS, every other window spreads evenly. It can be slow, fail on a given
/// call, and it records what each call asked for (layers, log-mel).
final class FakeClassifier: WindowClassifying {
    let sampleRate = 16_000
    let windowSeconds = 2.0
    var windowSamples: Int { Int(windowSeconds) * sampleRate }
    let labels = (0..<4).map { ModelCard.Label(index: $0, name: ["dog", "rain", "siren", "bird"][$0], emoji: "·") }
    let exposedLayers = ["conv1", "layer1", "layer4"]
    let parameters = LogMelParameters(sampleRate: 16_000, nFFT: 512, hopLength: 256, nMels: 8, fMin: 0, fMax: 8000,
                                      windowSeconds: 2.0)
    let loudClass: Int
    let delaySeconds: Double
    let failOnCall: Int?
    /// Taps and log-mel requests of every call, in order (read after the run).
    let calls = Mutex<[(taps: Set<String>, logMel: Bool)]>([])

    init(loudClass: Int = 0, delaySeconds: Double = 0, failOnCall: Int? = nil) {
        self.loudClass = loudClass
        self.delaySeconds = delaySeconds
        self.failOnCall = failOnCall
    }

    struct Failure: Error {}

    func classify(window: [Float], start: Double, topK: Int, taps: Set<String>, includeLogMel: Bool) throws -> WindowPrediction {
        let n = calls.withLock { $0.append((taps, includeLogMel)); return $0.count }
        if let failOnCall, n == failOnCall { throw Failure() }
        if delaySeconds > 0 { Thread.sleep(forTimeInterval: delaySeconds) }
        let loud = EnergyGate.rmsDBFS(window) > -20
        var p = [Float](repeating: 0.25, count: labels.count)
        if loud {
            p = [Float](repeating: 0.1 / 3, count: labels.count)
            p[loudClass] = 0.9
        }
        let top = Softmax.top(topK, of: p).map { ScoredLabel(index: $0.index, label: labels[$0.index].name, emoji: "·", score: $0.probability) }
        var maps: [String: FeatureMap] = [:]
        for layer in taps {
            maps[layer] = FeatureMap(layer: layer, shape: Shape(channels: 2, height: 2, width: 3), values: (0..<12).map(Float.init))
        }
        let mel: [Float]? = includeLogMel ? [Float](repeating: -20, count: parameters.nMels * parameters.frames) : nil
        return WindowPrediction(start: start, top: top, probabilities: p, featureMaps: maps, logMel: mel)
    }
}

/// WAV files for pipeline tests.
enum TestAudio {
    static func wav(_ samples: [Float], rate: Int = 16000) throws -> String {
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("in.wav")
        return try WAVWriter.write(samples, rate: rate, to: url).path
    }

    static func noise(seconds: Double, rate: Int = 16000, amplitude: Float = 0.3) -> [Float] {
        var g = SystemRandomNumberGenerator()
        return (0..<Int(seconds * Double(rate))).map { _ in Float.random(in: -amplitude...amplitude, using: &g) }
    }

    /// `pattern` of seconds: loud noise where true, quiet noise (−50 dBFS-ish) where false.
    static func pattern(_ seconds: [Bool], rate: Int = 16000) -> [Float] {
        seconds.flatMap { loud in noise(seconds: 1, rate: rate, amplitude: loud ? 0.5 : 0.005) }
    }
}
