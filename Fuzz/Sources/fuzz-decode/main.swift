// libFuzzer target: any bytes as an audio file through the path an upload or `hark classify`
// takes — decode (libsndfile), mono mixdown, resampling (soxr), log-mel and the model (the first
// window). Every input must end in audio or a typed decoding error, never a crash. The model runs
// on one input in 16 (chosen by the input's bytes, so a run replays): under AddressSanitizer it
// costs ~50× the rest, and it only ever sees finite log-mels of a fixed shape.
import Foundation
import FuzzDriver
import HarkClassifier

/// The shipped first network (small and fast), loaded once.
nonisolated(unsafe) let classifier: Classifier? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    return (try? ModelEnsemble.load(cardPath: root.appendingPathComponent("Models/hark-esc50.json").path))
        .flatMap { try? Classifier(model: $0) }
}()

let scratch = "/dev/shm/hark-fuzz-decode-\(getpid())"

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let classifier else { fatalError("the model did not load") }
    guard let data else { return 0 }
    let bytes = Data(bytes: data, count: size)
    guard FileManager.default.createFile(atPath: scratch, contents: bytes) else { fatalError("cannot write \(scratch)") }
    // At most a minute of audio: a lying header cannot make one input take minutes.
    guard let audio = try? PreparedAudio.load(path: scratch, sampleRate: classifier.sampleRate, limitSeconds: 60) else { return 0 }
    let window = WindowSlicer(windowSamples: classifier.windowSamples, hopSamples: classifier.windowSamples).window(audio.samples, start: 0)
    guard let mel = try? classifier.features(of: window) else { fatalError("a decoded window failed the log-mel") }
    precondition(mel.allSatisfy { $0.isFinite }, "non-finite log-mel")
    guard bytes.reduce(0, { $0 &+ Int($1) }) % 16 == 0 else { return 0 }
    guard let prediction = try? classifier.classify(logMel: mel) else { fatalError("a decoded window failed the model") }
    precondition(prediction.probabilities.allSatisfy { $0.isFinite }, "non-finite probabilities")
    return 0
}

runLibFuzzer { data, size in fuzz(data, size) }
