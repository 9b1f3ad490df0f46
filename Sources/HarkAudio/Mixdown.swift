public enum Mixdown {
    /// Mean of the channels of interleaved frames (the same mixdown as training).
    public static func mono(_ interleaved: [Float], channels: Int) -> [Float] {
        guard channels > 1 else { return interleaved }
        let frames = interleaved.count / channels
        var out = [Float](repeating: 0, count: frames)
        let scale = 1 / Float(channels)
        interleaved.withUnsafeBufferPointer { src in
            for f in 0..<frames {
                var sum: Float = 0
                for c in 0..<channels { sum += src[f * channels + c] }
                out[f] = sum * scale
            }
        }
        return out
    }
}

public enum SampleSanitizer {
    /// Replaces NaN and ±Inf with 0; returns how many were replaced.
    @discardableResult
    public static func replaceNonFinite(_ samples: inout [Float]) -> Int {
        var count = 0
        for i in samples.indices where !samples[i].isFinite {
            samples[i] = 0
            count += 1
        }
        return count
    }
}
