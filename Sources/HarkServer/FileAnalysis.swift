import Foundation
import HarkAudio
import HarkClassifier
import HarkEngine
import Hummingbird

/// `POST /v1/classify`'s answer, in the seed visualizers' keys so their front-ends work unchanged:
/// `predictions` (top-3 `{class, confidence, emoji}`), `visualization` (every exposed layer of the
/// maps member as its channel mean `{shape, values}`), `input_spectrogram`, `waveform`
/// (`{values, sample_rate, duration}`), plus Hark's own `windows` (every window's top-3) for a
/// file longer than one window. For a longer file `predictions` is the mean of the windows'
/// probabilities, and the maps and spectrogram are those of the window `visualized_window` names.
struct FileAnalysis: Encodable, Sendable {
    struct Prediction: Codable, Sendable {
        var `class`: String
        var confidence: Float
        var emoji: String
        var index: Int
    }

    struct Waveform: Encodable, Sendable {
        var values: [Float]
        var sampleRate: Int
        var duration: Double
        enum CodingKeys: String, CodingKey { case values, sampleRate = "sample_rate", duration }
    }

    struct Window: Codable, Sendable {
        var index: Int
        var start: Double
        var end: Double
        var predictions: [Prediction]
    }

    struct VisualizedWindow: Encodable, Sendable {
        var index: Int
        var start: Double
        var end: Double
    }

    var predictions: [Prediction]
    var visualization: [String: LayerGrid]
    var inputSpectrogram: LayerGrid
    var waveform: Waveform
    var windows: [Window]
    var visualizedWindow: VisualizedWindow
    var model: String
    var mapsMember: String
    var filename: String?
    var nonFiniteSamples: Int
    /// The history's id of this analysis, when it was recorded.
    var analysisID: String?
    /// The file's own rate and the decoded audio's length, for the history.
    var duration: Double { waveform.duration }

    enum CodingKeys: String, CodingKey {
        case predictions, visualization, inputSpectrogram = "input_spectrogram", waveform, windows
        case visualizedWindow = "visualized_window", model, mapsMember = "maps_member", filename
        case nonFiniteSamples = "non_finite_samples", analysisID = "analysis_id"
    }

    static let waveformPoints = 8000

    /// Decodes `path` (an upload saved to disk) and runs every window through `classifier`.
    /// Errors are `HTTPError`s with the decoder's reason, naming the upload as `displayName`.
    /// `shouldStop` is asked between windows (the server shutting down); true ends the analysis.
    static func analyse(path: String, displayName: String, filename: String?, classifier: Classifier,
                        hopSeconds: Double, windowIndex: Int?, maxSeconds: Double,
                        shouldStop: () -> Bool = { false }) throws -> FileAnalysis {
        let audio: PreparedAudio
        do {
            audio = try PreparedAudio.load(path: path, sampleRate: classifier.sampleRate, limitSeconds: maxSeconds)
        } catch let error as AudioDecodingError {
            throw httpError(error, path: path, displayName: displayName)
        }
        let labels = classifier.labels
        let slicer = WindowSlicer(windowSamples: classifier.windowSamples,
                                  hopSamples: max(1, Int((hopSeconds * Double(classifier.sampleRate)).rounded())))
        let starts = slicer.starts(length: audio.samples.count)
        let chosen = windowIndex ?? 0
        guard starts.indices.contains(chosen) else {
            throw HTTPError(.badRequest, message: "window \(chosen) does not exist: the file has \(starts.count) windows at a hop of \(hopSeconds) s")
        }
        var sum = [Float](repeating: 0, count: labels.count)
        var windows: [Window] = []
        var visualized: WindowPrediction?
        for (i, start) in starts.enumerated() {
            if shouldStop() { throw AnalysisWorker.ShuttingDown() }
            let taps = i == chosen ? Set(classifier.exposedLayers) : []
            let p = try classifier.classify(window: slicer.window(audio.samples, start: start),
                                            start: Double(start) / Double(classifier.sampleRate), topK: 3, taps: taps,
                                            includeLogMel: i == chosen)
            if i == chosen { visualized = p }
            for c in sum.indices { sum[c] += p.probabilities[c] }
            windows.append(Window(index: i, start: p.start, end: p.start + classifier.windowSeconds,
                                  predictions: p.top.map(prediction)))
        }
        guard let visualized, let mel = visualized.logMel else {
            throw HTTPError(.internalServerError, message: "the model gave no maps")
        }
        let mean = sum.map { $0 / Float(starts.count) }
        let top = Softmax.top(3, of: mean).map {
            Prediction(class: labels[$0.index].name, confidence: $0.probability, emoji: labels[$0.index].emoji, index: $0.index)
        }
        let p = classifier.parameters
        return FileAnalysis(
            predictions: top, visualization: LayerGrid.channelMeans(visualized.featureMaps),
            inputSpectrogram: LayerGrid(rows: p.nMels, columns: p.frames, flat: mel),
            waveform: Waveform(values: decimated(audio.samples, to: waveformPoints), sampleRate: audio.sourceSampleRate,
                               duration: audio.durationSeconds),
            windows: starts.count > 1 ? windows : [],
            visualizedWindow: VisualizedWindow(index: chosen, start: visualized.start, end: visualized.start + classifier.windowSeconds),
            model: classifier.model.name, mapsMember: classifier.model.members[classifier.mapsMember].card.name,
            filename: filename, nonFiniteSamples: audio.nonFiniteSamples)
    }

    private static func prediction(_ s: ScoredLabel) -> Prediction {
        Prediction(class: s.label, confidence: s.score, emoji: s.emoji, index: s.index)
    }

    /// At most `points` values: per stretch, the sample farthest from zero (keeps the envelope).
    static func decimated(_ samples: [Float], to points: Int) -> [Float] {
        guard samples.count > points else { return samples }
        return (0..<points).map { i in
            let from = i * samples.count / points, to = max(from + 1, (i + 1) * samples.count / points)
            return samples[from..<to].max { abs($0) < abs($1) } ?? 0
        }
    }

    /// The decoder's reason, with the upload's name instead of the temporary path.
    static func httpError(_ error: AudioDecodingError, path: String, displayName: String) -> HTTPError {
        let reason = error.description.replacingOccurrences(of: path, with: displayName)
        switch error {
        case .tooLong: return HTTPError(.contentTooLarge, message: reason)
        case .unsupportedFormat: return HTTPError(.unsupportedMediaType, message: reason)
        case .empty, .truncated, .unreadable, .fileNotFound: return HTTPError(.badRequest, message: reason)
        }
    }
}
