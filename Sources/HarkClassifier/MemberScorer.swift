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

    /// Probabilities under the card's protocol, the crops that lie inside the window with their own
    /// probabilities (the detector's evidence), and the whole window's feature maps for `taps`.
    func score(logMel mel: [Float], taps: Set<String>) throws -> MemberScore {
        guard let cropSession else {
            let inference = try session.run(logMel: mel, taps: taps)
            let whole = CropScore(start: 0, end: parameters.windowSeconds, probabilities: inference.probabilities)
            return MemberScore(probabilities: inference.probabilities, crops: [whole], featureMaps: inference.featureMaps)
        }
        let (probabilities, crops) = try cropAveragedProbabilities(mel, crops: cropSession.crops, session: cropSession.session)
        return MemberScore(probabilities: probabilities, crops: crops,
                           featureMaps: taps.isEmpty ? [:] : try session.run(logMel: mel, taps: taps).featureMaps)
    }

    /// Mean softmax over the card's crops of a [n_mels × frames] log-mel window, and the crops that
    /// do not wrap around the window's end, placed in seconds from its start.
    private func cropAveragedProbabilities(_ mel: [Float], crops: ModelCard.Crops,
                                           session: InferenceSession) throws -> ([Float], [CropScore]) {
        let mels = parameters.nMels, frames = parameters.frames
        guard mel.count == mels * frames else {
            throw EngineError.wrongInputSize(expected: mels * frames, got: mel.count)
        }
        var sum = [Float](repeating: 0, count: network.labels.count)
        var inside: [CropScore] = []
        let secondsPerFrame = parameters.windowSeconds / Double(frames)
        if crop.count != mels * crops.frames { crop = [Float](repeating: 0, count: mels * crops.frames) }
        for first in crops.starts(windowFrames: frames) {
            for m in 0..<mels {
                for t in 0..<crops.frames {
                    crop[m * crops.frames + t] = mel[m * frames + (first + t) % frames]
                }
            }
            let p = try session.run(logMel: crop).probabilities
            for i in sum.indices { sum[i] += p[i] }
            if first + crops.frames <= frames {
                inside.append(CropScore(start: Double(first) * secondsPerFrame,
                                        end: Double(first + crops.frames) * secondsPerFrame, probabilities: p))
            }
        }
        let scale = 1 / Float(crops.count)
        return (sum.map { $0 * scale }, inside)
    }
}

/// One member's verdict on a window.
struct MemberScore {
    var probabilities: [Float]
    var crops: [CropScore]
    var featureMaps: [String: FeatureMap]
}
