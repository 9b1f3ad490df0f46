import Foundation
import HarkAnalysis
import HarkClassifier
import HarkEngine

/// Fold-5 clips the shipped model recognises early, as the live path sees them: a sound that
/// begins at stream time t is first covered by windows ending between t + 1 and t + 6 s, and
/// its event starts on the second window (2 of 3) scoring ≥ 0.5. So each chosen clip must
/// score ≥ 0.6 for its class in windows holding only its first 3 and 4 s (after silence),
/// which leaves a second of the window + hop bound for capture and pipeline latency. Distinct
/// classes, in CSV order.
public enum ConfidentClips {
    public struct Clip: Sendable {
        public var path: String
        public var label: String
        public var seconds: Double
    }

    /// Two such clips (computed once; classifying takes a while in a debug build).
    public static let shippedModel: [Clip] = {
        guard let resnet = try? ResNet.load(cardPath: TestPaths.shippedModelCard),
              let classifier = try? Classifier(model: resnet),
              let all = try? ESC50.clips(root: TestPaths.esc50.path, folds: [5]) else { return [] }
        let rate = classifier.parameters.sampleRate, length = classifier.parameters.windowSamples
        /// The class's probability in a window of `lead` seconds of silence, then the clip's start.
        func score(_ audio: PreparedAudio, class target: Int, lead: Double) -> Float {
            let offset = Int(lead * Double(rate))
            let count = min(length - offset, audio.samples.count)
            var window = [Float](repeating: 0, count: length)
            window.replaceSubrange(offset..<(offset + count), with: audio.samples[0..<count])
            return (try? classifier.classify(window: window).probabilities[target]) ?? 0
        }
        var chosen: [Clip] = []
        // The first 60 clips are plenty for a trained model; the bound keeps a bad model from costing minutes.
        for clip in all.prefix(60) where !chosen.contains(where: { $0.label == clip.category }) {
            guard let audio = try? PreparedAudio.load(path: clip.path, sampleRate: rate),
                  [1.0, 2.0].allSatisfy({ score(audio, class: clip.target, lead: $0) >= 0.6 }) else { continue }
            chosen.append(Clip(path: clip.path, label: clip.category, seconds: audio.durationSeconds))
            if chosen.count == 2 { break }
        }
        return chosen
    }()
}
