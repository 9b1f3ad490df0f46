import HarkAudio
import HarkEngine
import HarkFeatures

/// One network of a classifier: its log-mel, its sessions and their scratch memory.
public final class MemberScorer {
    let network: ResNet
    let logMel: LogMelSpectrogram
    private let session: InferenceSession
    private let cropSession: (crops: ModelCard.Crops, session: InferenceSession)?
    private var features: [Float] = []
    private var crop: [Float] = []
    /// The stream grid when crops are placed on the stream (`CropPlacement.stream`), and the
    /// probabilities of the crops the last window held, by key. Like all of the scorer, owned by
    /// the one queue that classifies.
    private var grid: CropGrid?
    private var gridScores: [Int: [Float]] = [:]
    /// Network passes over crops so far (whole-window passes for feature maps not counted).
    private(set) var cropPasses = 0

    init(network: ResNet) throws {
        self.network = network
        logMel = try LogMelSpectrogram(parameters: network.card.frontend.logMel)
        session = network.makeSession()
        if let crops = network.card.crops, crops.count > 1 || crops.frames < network.card.frontend.logMel.frames {
            cropSession = (crops, network.makeSession(frames: crops.frames))
        } else {
            cropSession = nil
        }
    }

    var parameters: LogMelParameters { network.card.frontend.logMel }

    /// A window at `rate` as a member with front-end `p` takes it: resampled with libsoxr HQ
    /// (training's resampler) when the rates differ, then cut or zero-padded to exactly one window.
    public static func window(_ window: [Float], from rate: Int, to p: LogMelParameters) throws -> [Float] {
        guard rate != p.sampleRate else { return window }
        let own = try Resampler.resample(window, from: Double(rate), to: Double(p.sampleRate))
        return WindowSlicer(windowSamples: p.windowSamples, hopSamples: 1).window(own, start: 0)
    }

    /// Log-mel of a window of exactly `parameters.windowSamples` samples.
    func features(of window: [Float]) throws -> [Float] {
        guard window.count == parameters.windowSamples else {
            throw FeatureError.wrongLength(expected: parameters.windowSamples, got: window.count)
        }
        try logMel.compute(window, into: &features)
        return features
    }

    /// This network's crops on a stream laid every `hopSamples` (at `sampleRate`) under
    /// `placement`; nil when it places them in the window, or scores whole windows.
    func grid(_ placement: CropPlacement, hopSamples: Int, sampleRate: Int) -> CropGrid? {
        guard placement == .stream, let crops = cropSession?.crops else { return nil }
        let p = parameters
        return CropGrid(cropFrames: crops.frames, hopSamples: hopSamples, sampleRate: sampleRate, windowFrames: p.frames,
                        windowSeconds: p.windowSeconds)
    }

    /// Places the crops of later stream windows (`score(logMel:windowEnd:taps:)`) on `grid`, or in
    /// the window when nil. Forgets the crops already scored.
    func placeCrops(on grid: CropGrid?) {
        self.grid = grid
        gridScores = [:]
    }

    /// Probabilities under the card's protocol (or the stream grid, for a stream window when crops
    /// are placed on the stream), the crops that lie inside the window with their own probabilities
    /// (the detector's evidence), and the whole window's feature maps for `taps`.
    /// - Parameter windowEnd: the stream sample where the window ends, for a live window.
    func score(logMel mel: [Float], windowEnd: Int? = nil, taps: Set<String>) throws -> MemberScore {
        guard let cropSession else {
            let inference = try session.run(logMel: mel, taps: taps)
            let whole = CropScore(start: 0, end: parameters.windowSeconds, probabilities: inference.probabilities)
            return MemberScore(probabilities: inference.probabilities, crops: [whole], featureMaps: inference.featureMaps)
        }
        let probabilities: [Float], crops: [CropScore]
        if let grid, let windowEnd {
            (probabilities, crops) = try gridAveragedProbabilities(mel, grid: grid, windowEnd: windowEnd, crops: cropSession.crops,
                                                              session: cropSession.session)
        } else {
            (probabilities, crops) = try cropAveragedProbabilities(mel, crops: cropSession.crops, session: cropSession.session)
        }
        return MemberScore(probabilities: probabilities, crops: crops,
                           featureMaps: taps.isEmpty ? [:] : try session.run(logMel: mel, taps: taps).featureMaps)
    }

    /// Mean softmax over the card's crops of a [n_mels × frames] log-mel window, and the crops that
    /// do not wrap around the window's end, placed in seconds from its start.
    private func cropAveragedProbabilities(_ mel: [Float], crops: ModelCard.Crops,
                                           session: InferenceSession) throws -> ([Float], [CropScore]) {
        let frames = parameters.frames
        var sum = [Float](repeating: 0, count: network.labels.count)
        var inside: [CropScore] = []
        let secondsPerFrame = parameters.windowSeconds / Double(frames)
        for (k, first) in crops.starts(windowFrames: frames).enumerated() {
            let p = try scoreCrop(of: mel, firstFrame: first, cropFrames: crops.frames, view: crops.view(ofCrop: k),
                                  edge: .wrap, session: session)
            for i in sum.indices { sum[i] += p[i] }
            if first + crops.frames <= frames {
                inside.append(CropScore(start: Double(first) * secondsPerFrame,
                                        end: Double(first + crops.frames) * secondsPerFrame, probabilities: p))
            }
        }
        let scale = 1 / Float(crops.count)
        return (sum.map { $0 * scale }, inside)
    }

    /// Mean softmax over the window's crops on the stream grid: a crop an earlier window held is
    /// not scored again. Keeps the scores of this window's crops only (the next window's keys are
    /// these or newer). A card's views go round the grid by stream place (the crop ending at
    /// sample e takes view e / hop), so a shared crop keeps its view; the head crop is plain, and
    /// reads past the window's ends repeat its edge frames (the newest crop has nothing after it).
    private func gridAveragedProbabilities(_ mel: [Float], grid: CropGrid, windowEnd: Int, crops card: ModelCard.Crops,
                                           session: InferenceSession) throws -> ([Float], [CropScore]) {
        var sum = [Float](repeating: 0, count: network.labels.count)
        var crops: [CropScore] = []
        var kept: [Int: [Float]] = [:]
        let placed = grid.crops(windowEnd: windowEnd)
        for c in placed {
            let p: [Float]
            if let key = c.key, let known = gridScores[key] {
                p = known
            } else {
                let view = c.key.map { card.view(ofCrop: $0 / grid.hopSamples) } ?? .plain
                p = try scoreCrop(of: mel, firstFrame: c.firstFrame, cropFrames: grid.cropFrames, view: view,
                                  edge: .clamp, session: session)
            }
            if let key = c.key { kept[key] = p }
            for i in sum.indices { sum[i] += p[i] }
            crops.append(CropScore(start: c.start, end: c.end, probabilities: p))
        }
        gridScores = kept
        let scale = 1 / Float(placed.count)
        return (sum.map { $0 * scale }, crops)
    }

    /// Softmax of the crop of `cropFrames` frames from `firstFrame` of a [n_mels × frames] log-mel
    /// window, read through `view`; `edge` says what a read beyond the window's frames finds.
    private func scoreCrop(of mel: [Float], firstFrame: Int, cropFrames: Int, view: CropView, edge: CropView.Edge,
                           session: InferenceSession) throws -> [Float] {
        let mels = parameters.nMels, frames = parameters.frames
        guard mel.count == mels * frames else {
            throw EngineError.wrongInputSize(expected: mels * frames, got: mel.count)
        }
        view.read(mel, mels: mels, frames: frames, firstFrame: firstFrame, cropFrames: cropFrames, edge: edge, into: &crop)
        cropPasses += 1
        return try session.run(logMel: crop).probabilities
    }
}

/// One member's verdict on a window.
struct MemberScore {
    var probabilities: [Float]
    var crops: [CropScore]
    var featureMaps: [String: FeatureMap]
}
