import CALSA

/// The sample formats `ALSASource` asks a device for. Each is converted to Float32 in [-1, 1).
/// Little-endian only: the byte order of every Linux machine Hark targets.
public enum ALSASampleFormat: String, Sendable, CaseIterable {
    case s16le, s32le, f32le

    var alsaFormat: snd_pcm_format_t {
        switch self {
        case .s16le: return SND_PCM_FORMAT_S16_LE
        case .s32le: return SND_PCM_FORMAT_S32_LE
        case .f32le: return SND_PCM_FORMAT_FLOAT_LE
        }
    }

    var bytesPerSample: Int { self == .s16le ? 2 : 4 }

    /// Converts `count` interleaved samples in `raw` to Float32 (full scale = 1.0).
    func convert(_ raw: UnsafeRawBufferPointer, count: Int, into out: inout [Float]) {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(count)
        switch self {
        case .s16le:
            for i in 0..<count {
                out.append(Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) / 32768)
            }
        case .s32le:
            for i in 0..<count {
                out.append(Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) / 2_147_483_648)
            }
        case .f32le:
            for i in 0..<count {
                out.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
            }
        }
    }
}
