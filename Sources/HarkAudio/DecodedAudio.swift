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
    /// The most samples reserved up front on the header's word (64 MB); longer files grow as read.
    static let maxReservedSamples = 1 << 24
    /// Samples per block read (1 MB of floats, whatever the channel count).
    static let blockSamples = 1 << 18

    /// Decodes a whole file. Non-finite samples become 0 and are counted.
    public static func decode(path: String, limitSeconds: Double = defaultLimitSeconds)
        throws(AudioDecodingError) -> DecodedAudio
    {
        let reader = try AudioFileReader(path: path)
        var samples: [Float] = []
        samples.reserveCapacity(reservation(reader, limitSeconds: limitSeconds) * reader.channels)
        try forEachBlock(of: reader, limitSeconds: limitSeconds) { samples += $0 }
        let replaced = SampleSanitizer.replaceNonFinite(&samples)
        return DecodedAudio(samples: samples, channels: reader.channels, sampleRate: reader.sampleRate,
                            nonFiniteSamples: replaced)
    }

    /// Hands a file's interleaved blocks (about a megabyte each) to `body` in order, refusing it
    /// as `.tooLong` as soon as its header or its decoded frames pass `limitSeconds`, so a caller
    /// that reduces each block (mono, resampled) never holds more than the limit allows.
    public static func forEachBlock(of reader: AudioFileReader, limitSeconds: Double,
                                    _ body: ([Float]) throws(AudioDecodingError) -> Void) throws(AudioDecodingError)
    {
        // Refuse early only when the header's length is plausible for the file's size: a damaged
        // header (a cut OGG, say) can announce absurd lengths; decoding then finds the truth.
        if reader.durationSeconds > limitSeconds, reader.headerLengthIsPlausible {
            throw .tooLong(path: reader.path, seconds: reader.durationSeconds, limitSeconds: limitSeconds)
        }
        let limitFrames = Int(limitSeconds * Double(reader.sampleRate))
        let blockFrames = max(1024, blockSamples / reader.channels)
        while true {
            let block = try reader.read(maxFrames: blockFrames)
            if block.isEmpty { break }
            if reader.framesRead > limitFrames {
                throw .tooLong(path: reader.path, seconds: Double(reader.framesRead) / Double(reader.sampleRate),
                               limitSeconds: limitSeconds)
            }
            try body(block)
        }
    }

    /// Frames worth reserving before decoding: what a believable header announces, never past the
    /// limit nor `maxReservedSamples`. A lying header must not allocate gigabytes before decoding
    /// finds the truth (found by fuzzing).
    public static func reservation(_ reader: AudioFileReader, limitSeconds: Double) -> Int {
        guard reader.headerLengthIsPlausible else { return 0 }
        let limitFrames = Int(limitSeconds * Double(reader.sampleRate))
        return min(max(0, reader.declaredFrames), limitFrames + 1, maxReservedSamples / reader.channels)
    }
}
