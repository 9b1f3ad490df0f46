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

    /// Decodes, mixes to mono (mean of channels) and resamples with libsoxr HQ — the training path —
    /// block by block, so memory follows the mono result at the model's rate, not the file's
    /// channels and rate (an 8-channel 192 kHz upload costs what a mono 32 kHz one does).
    public static func load(path: String, sampleRate: Int,
                            limitSeconds: Double = AudioFileDecoder.defaultLimitSeconds) throws -> PreparedAudio {
        let reader = try AudioFileReader(path: path)
        let resampler = try Resampler(inputRate: Double(reader.sampleRate), outputRate: Double(sampleRate))
        let ratio = Double(sampleRate) / Double(reader.sampleRate)
        var samples: [Float] = []
        samples.reserveCapacity(Int(Double(AudioFileDecoder.reservation(reader, limitSeconds: limitSeconds)) * ratio) + 1024)
        var nonFinite = 0
        try AudioFileDecoder.forEachBlock(of: reader, limitSeconds: limitSeconds) { block in
            var block = block
            nonFinite += SampleSanitizer.replaceNonFinite(&block)
            samples += resampler.process(Mixdown.mono(block, channels: reader.channels))
        }
        samples += resampler.flush()
        return PreparedAudio(path: path, samples: samples, sampleRate: sampleRate,
                             sourceSampleRate: reader.sampleRate, sourceChannels: reader.channels,
                             nonFiniteSamples: nonFinite)
    }
}
