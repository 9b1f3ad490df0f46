import Foundation

/// Writes small WAV files for tests: 16-bit PCM or 32-bit IEEE float, interleaved.
public enum WAVWriter {
    public enum Encoding { case pcm16, float32 }

    public static func data(_ samples: [Float], channels: Int, rate: Int, encoding: Encoding = .pcm16) -> Data {
        let bytesPerSample = encoding == .pcm16 ? 2 : 4
        var body = Data(capacity: samples.count * bytesPerSample)
        for s in samples {
            switch encoding {
            case .pcm16:
                let v = Int16(max(-1, min(1, s.isFinite ? s : 0)) * 32767)
                withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) }
            case .float32:
                withUnsafeBytes(of: s.bitPattern.littleEndian) { body.append(contentsOf: $0) }
            }
        }
        var d = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(36 + body.count); d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(encoding == .pcm16 ? 1 : 3); u16(channels); u32(rate)
        u32(rate * channels * bytesPerSample); u16(channels * bytesPerSample); u16(bytesPerSample * 8)
        d.append(contentsOf: Array("data".utf8)); u32(body.count)
        d.append(body)
        return d
    }

    @discardableResult
    public static func write(_ samples: [Float], channels: Int = 1, rate: Int, to url: URL, encoding: Encoding = .pcm16) throws -> URL {
        try data(samples, channels: channels, rate: rate, encoding: encoding).write(to: url)
        return url
    }

    /// A sine tone.
    public static func tone(frequency: Double, seconds: Double, rate: Int, amplitude: Float = 0.5) -> [Float] {
        (0..<Int(seconds * Double(rate))).map { amplitude * Float(sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }
    }
}
