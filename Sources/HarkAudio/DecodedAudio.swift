/// A whole file, decoded: interleaved float samples in [-1, 1].
public struct DecodedAudio: Sendable, Equatable {
    public var samples: [Float]
    public var channels: Int
    public var sampleRate: Int
    /// NaN or infinite samples in the file, replaced by 0.
    public var nonFiniteSamples: Int

    public init(samples: [Float], channels: Int, sampleRate: Int, nonFiniteSamples: Int = 0) {
        self.samples = samples
        self.channels = channels
        self.sampleRate = sampleRate
        self.nonFiniteSamples = nonFiniteSamples
    }

    public var frameCount: Int { channels > 0 ? samples.count / channels : 0 }
    public var durationSeconds: Double { Double(frameCount) / Double(sampleRate) }

    /// Mean of the channels.
    public func mono() -> [Float] { Mixdown.mono(samples, channels: channels) }
}

public enum AudioFileDecoder {
    /// Files longer than this are refused unless the caller passes a larger limit (memory).
    public static let defaultLimitSeconds: Double = 3600

    /// Decodes a whole file. Non-finite samples become 0 and are counted.
    public static func decode(path: String, limitSeconds: Double = defaultLimitSeconds)
        throws(AudioDecodingError) -> DecodedAudio
    {
        let reader = try AudioFileReader(path: path)
        // Refuse early only when the header's length is plausible for the file's size: a damaged
        // header (a cut OGG, say) can announce absurd lengths; decoding then finds the truth.
        if reader.durationSeconds > limitSeconds, reader.headerLengthIsPlausible {
            throw .tooLong(path: path, seconds: reader.durationSeconds, limitSeconds: limitSeconds)
        }
        var samples: [Float] = []
        samples.reserveCapacity(max(0, reader.declaredFrames) * reader.channels)
        let limitFrames = Int(limitSeconds * Double(reader.sampleRate))
        while true {
            let block = try reader.read(maxFrames: 65536)
            if block.isEmpty { break }
            samples += block
            if samples.count / reader.channels > limitFrames {
                throw .tooLong(path: path, seconds: Double(samples.count / reader.channels) / Double(reader.sampleRate),
                               limitSeconds: limitSeconds)
            }
        }
        let replaced = SampleSanitizer.replaceNonFinite(&samples)
        return DecodedAudio(samples: samples, channels: reader.channels, sampleRate: reader.sampleRate,
                            nonFiniteSamples: replaced)
    }
}
