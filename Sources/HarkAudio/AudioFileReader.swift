import CSndFile
import Foundation

/// Reads an audio file through libsndfile (WAV, FLAC, OGG Vorbis/Opus, MP3, …) in blocks of
/// interleaved float frames. Not thread-safe: one reader belongs to one task.
public final class AudioFileReader {
    public let path: String
    public let sampleRate: Int
    public let channels: Int
    /// Frames the file's header announces (what libsndfile reports).
    public let declaredFrames: Int
    public private(set) var framesRead = 0

    private var handle: OpaquePointer?

    public init(path: String) throws(AudioDecodingError) {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: path)
        }
        if isDirectory.boolValue { throw .unreadable(path: path, reason: "it is a directory") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied")
        }
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = String(cString: sf_strerror(nil))
            throw .unsupportedFormat(path: path, reason: reason)
        }
        guard info.channels > 0, info.samplerate > 0 else {
            sf_close(handle)
            throw .unsupportedFormat(path: path, reason: "no channels or no sample rate")
        }
        self.handle = handle
        self.sampleRate = Int(info.samplerate)
        self.channels = Int(info.channels)
        self.declaredFrames = Self.announcedFrames(handle, readable: Int(info.frames))
    }

    /// libsndfile quietly shortens a WAV/AIFF whose data chunk runs past the end of the file and
    /// only notes it in its log ("data : 16000 (should be 7978)"); scale the count back up so that
    /// a cut file is reported as truncated instead of read as a shorter one.
    private static func announcedFrames(_ handle: OpaquePointer, readable: Int) -> Int {
        var log = [CChar](repeating: 0, count: 4096)
        _ = sf_command(handle, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("data") && line.contains("(should be") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            if numbers.count >= 2, numbers[1] > 0, numbers[0] > numbers[1] {
                return Int((Double(readable) * Double(numbers[0]) / Double(numbers[1])).rounded())
            }
        }
        return readable
    }

    deinit {
        if let handle { sf_close(handle) }
    }

    public var durationSeconds: Double { Double(declaredFrames) / Double(sampleRate) }

    /// Whether the announced frame count could fit in the file: no codec libsndfile reads packs
    /// more than 64 frames per byte.
    public var headerLengthIsPlausible: Bool {
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let bytes else { return false }
        return declaredFrames <= 64 * max(bytes, 1)
    }

    /// Reads up to `maxFrames` frames, interleaved. An empty array means the end of the file.
    /// Throws `.truncated` when the file ends before the frames its header announced.
    public func read(maxFrames: Int) throws(AudioDecodingError) -> [Float] {
        guard let handle, maxFrames > 0 else { return [] }
        var block = [Float](repeating: 0, count: maxFrames * channels)
        let got = block.withUnsafeMutableBufferPointer { buf in
            Int(sf_readf_float(handle, buf.baseAddress, sf_count_t(maxFrames)))
        }
        let status = sf_error(handle)
        if status != 0 {
            throw .unreadable(path: path, reason: String(cString: sf_error_number(status)))
        }
        framesRead += got
        if got == 0 {
            // libsndfile's frame count for some formats (MP3) is an estimate; a shortfall above a
            // few frames is a damaged file.
            if declaredFrames > 0, framesRead < declaredFrames - Self.frameCountSlack(sampleRate) {
                throw .truncated(path: path, expectedFrames: declaredFrames, readFrames: framesRead)
            }
            if framesRead == 0 { throw .empty(path: path) }
            return []
        }
        if got < maxFrames { block.removeSubrange((got * channels)...) }
        return block
    }

    /// The tolerated difference between announced and decoded frames: 50 ms.
    static func frameCountSlack(_ rate: Int) -> Int { rate / 20 }
}
