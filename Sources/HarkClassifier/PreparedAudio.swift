import HarkAudio

/// A file made ready for the model: mono, at the model's sample rate, non-finite samples zeroed.
public struct PreparedAudio: Sendable {
    public var path: String
    public var samples: [Float]
    public var sampleRate: Int
    public var sourceSampleRate: Int
    public var sourceChannels: Int
    public var nonFiniteSamples: Int

    public var durationSeconds: Double { Double(samples.count) / Double(sampleRate) }

    /// Decodes, mixes to mono (mean of channels) and resamples with libsoxr HQ — the training path.
    public static func load(path: String, sampleRate: Int,
                            limitSeconds: Double = AudioFileDecoder.defaultLimitSeconds) throws -> PreparedAudio {
        let decoded = try AudioFileDecoder.decode(path: path, limitSeconds: limitSeconds)
        let mono = decoded.mono()
        let resampled = try Resampler.resample(mono, from: Double(decoded.sampleRate), to: Double(sampleRate))
        return PreparedAudio(path: path, samples: resampled, sampleRate: sampleRate,
                             sourceSampleRate: decoded.sampleRate, sourceChannels: decoded.channels,
                             nonFiniteSamples: decoded.nonFiniteSamples)
    }
}
