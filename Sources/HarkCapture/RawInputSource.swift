import Foundation

/// Raw interleaved PCM from a file descriptor (stdin by default): `hark listen --source -`.
public final class RawInputSource: AudioSource {
    public enum SampleFormat: String, Sendable, CaseIterable {
        case s16le, f32le
        var bytes: Int { self == .s16le ? 2 : 4 }
    }

    public let sampleFormat: SampleFormat
    public let format: CaptureFormat
    public let overruns = 0
    public var name: String { "stdin:\(sampleFormat.rawValue)" }
    /// Non-finite f32 samples replaced by 0 so far.
    public private(set) var nonFiniteSamples = 0

    private let descriptor: Int32
    private var pending: [UInt8] = []

    public init(sampleFormat: SampleFormat, sampleRate: Int, channels: Int, descriptor: Int32 = STDIN_FILENO)
        throws(CaptureError)
    {
        guard sampleRate > 0, channels > 0 else {
            throw .invalidConfiguration("raw input needs --rate and --channels above 0")
        }
        self.sampleFormat = sampleFormat
        format = CaptureFormat(sampleRate: sampleRate, channels: channels)
        self.descriptor = descriptor
    }

    public func open() throws(CaptureError) {}

    public func read() throws(CaptureError) -> [Float] {
        let frameBytes = sampleFormat.bytes * format.channels
        let want = CaptureBlock.frames(rate: format.sampleRate) * frameBytes
        var buffer = [UInt8](repeating: 0, count: want)
        // Deliver whatever whole frames arrive, so a slow writer still flows in small blocks.
        while pending.count < frameBytes {
            let got = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, want) }
            if got < 0 {
                if errno == EINTR { continue }
                throw .disconnected(source: name, reason: String(cString: strerror(errno)))
            }
            if got == 0 { throw .endOfStream(source: name) }
            pending += buffer[0..<got]
        }
        let usable = pending.count / frameBytes * frameBytes
        let samples = decode(pending[0..<usable])
        pending.removeFirst(usable)
        return samples
    }

    public func close() {}

    private func decode(_ bytes: ArraySlice<UInt8>) -> [Float] {
        let count = bytes.count / sampleFormat.bytes
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                switch sampleFormat {
                case .s16le:
                    out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) / 32768
                case .f32le:
                    let v = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    if v.isFinite { out[i] = v } else { nonFiniteSamples += 1 }
                }
            }
        }
        return out
    }
}
