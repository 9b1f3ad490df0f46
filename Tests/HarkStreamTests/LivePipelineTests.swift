import Foundation
import HarkAnalysis
import HarkCapture
import HarkClassifier
import HarkEngine
import HarkStream
import Testing
import TestSupport

/// The whole live path on real files through `FileSource` and the shipped networks.
@Suite(.serialized) struct LivePipelineTests {
    static let model: ModelEnsemble? = try? ModelEnsemble.load(cardPath: TestPaths.shippedModelCard)

    func modelOrFail() throws -> ModelEnsemble { try #require(Self.model, "model \(TestPaths.shippedModelCard) loads") }

    @Test func aFileGivesOneWindowPerHopAndNoneAreLost() async throws {
        let path = try TestAudio.wav(TestAudio.noise(seconds: 12))
        var settings = LiveSettings()
        settings.backPressure = true
        let pipeline = try LivePipeline(model: try modelOrFail(), settings: settings) { FileSource(path: path) }
        let out = Collector(pipeline, interest: Interest(windows: true))
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        try await out.drained()
        let ends = out.windows.map(\.end)
        #expect(ends.map { Int($0.rounded()) } == Array(5...12))
        #expect(out.windows.map(\.sequence) == Array(0..<8))
        let summary = try #require(out.statuses.last?.summary)
        #expect(summary.windowsClassified == 8 && summary.windowsDropped == 0 && summary.windowsOverwritten == 0)
        #expect(abs(summary.streamSeconds - 12) < 0.01)
        #expect(out.statuses.first?.status == .captureStarted)
        #expect(out.statuses.first?.sampleRate == 16000)
    }

    @Test func silenceIsGatedAndRaisesNoEvents() async throws {
        let path = try TestAudio.wav([Float](repeating: 0, count: 16000 * 7))
        var settings = LiveSettings()
        settings.backPressure = true
        settings.detector.thresholds = .init(on: 0.01, off: 0.005)
        settings.detector.confirmWindows = 1
        settings.detector.confirmOf = 1
        let pipeline = try LivePipeline(model: try modelOrFail(), settings: settings) { FileSource(path: path) }
        let out = Collector(pipeline, interest: Interest(windows: true))
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        try await out.drained()
        #expect(out.events.isEmpty)
        #expect(out.windows.count == 3 && out.windows.allSatisfy { $0.gated && $0.top.isEmpty && $0.probabilities == nil })
        #expect(out.statuses.last?.summary?.windowsGated == 3)
    }

    /// The live path of `hark listen`'s default: the default model on a fold-5 clip that it names confidently
    /// offline (`Classifier` on the decoded file, ≥ 0.6, above the default on threshold) gives that
    /// verdict live, and an event.
    @Test func theDefaultModelRunsLiveAndNamesAFold5Clip() async throws {
        let ensemble = try ModelEnsemble.load(cardPath: TestPaths.defaultCard)
        #expect(ensemble.members.count == 1)
        let clip = try await offThread { () -> ESC50Clip? in
            let offline = try Classifier(model: ensemble)
            return try ESC50.clips(root: TestPaths.esc50.path, folds: [5]).prefix(20).first { clip in
                let audio = try PreparedAudio.load(path: clip.path, sampleRate: offline.sampleRate)
                let top = try offline.classify(file: audio, hopSeconds: 5).first?.top.first
                return top?.index == clip.target && (top?.score ?? 0) >= 0.6
            }
        }
        let chosen = try #require(clip, "the default names one of the first 20 fold-5 clips confidently")
        var settings = LiveSettings()
        settings.backPressure = true
        settings.hopSeconds = 2.5
        settings.detector.confirmWindows = 1   // a 5-s clip is one window
        settings.detector.confirmOf = 1
        let pipeline = try LivePipeline(model: ensemble, settings: settings) { FileSource(path: chosen.path) }
        let out = Collector(pipeline, interest: Interest(windows: true, layers: ["layer1"]))
        pipeline.start()
        #expect(try await offThread { pipeline.wait() } == .endOfStream)
        try await out.drained()
        let first = try #require(out.windows.first)
        #expect(first.top.first?.label == chosen.category, "top: \(first.top)")
        #expect(first.featureMaps.keys.sorted() == ["layer1"])
        #expect(out.events.contains { $0.phase == .start && $0.label == chosen.category }, "\(out.events.map(\.label))")
    }

    @Test func stopEndsOpenEventsPromptly() async throws {
        let path = try TestAudio.wav(TestAudio.noise(seconds: 30))
        var settings = LiveSettings()
        settings.detector.thresholds = .init(on: 0.0001, off: 0.0001)  // every class fires: events are open
        settings.detector.confirmWindows = 1
        settings.detector.confirmOf = 1
        settings.paceToRealTime = true
        let pipeline = try LivePipeline(model: try modelOrFail(), settings: settings) { FileSource(path: path) }
        let out = Collector(pipeline)
        pipeline.start()
        try await pause(6.5)
        let (outcome, stopSeconds) = try await offThread { () -> (LivePipeline.Outcome, Double) in
            let asked = Date()
            pipeline.stop()
            return (pipeline.wait(), Date().timeIntervalSince(asked))
        }
        #expect(outcome == .stopped)
        #expect(stopSeconds < 1.0)
        try await out.drained()
        let starts = Set(out.events.filter { $0.phase == .start }.map(\.id))
        let ends = Set(out.events.filter { $0.phase == .end }.map(\.id))
        #expect(!starts.isEmpty)
        #expect(starts == ends)
        #expect(out.statuses.last?.status == .stopped)
    }

    @Test func aMissingFileFailsWithItsName() async throws {
        let pipeline = try LivePipeline(model: try modelOrFail(), settings: LiveSettings()) {
            FileSource(path: "/nonexistent/x.wav")
        }
        pipeline.start()
        guard case .failed(let why) = try await offThread({ pipeline.wait() }) else {
            Issue.record("expected a failure")
            return
        }
        #expect(why.contains("/nonexistent/x.wav"))
    }
}

