/// Why a file could not be turned into samples. Every case names the file.
public enum AudioDecodingError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    case unsupportedFormat(path: String, reason: String)
    case unreadable(path: String, reason: String)
    case empty(path: String)
    case truncated(path: String, expectedFrames: Int, readFrames: Int)
    case tooLong(path: String, seconds: Double, limitSeconds: Double)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .unsupportedFormat(let path, let reason):
            return "\(path): unsupported or unrecognised audio format (\(reason)); "
                + "Hark reads WAV, FLAC, OGG Vorbis/Opus and MP3"
        case .unreadable(let path, let reason):
            return "\(path): cannot be read (\(reason))"
        case .empty(let path):
            return "\(path): contains no audio samples"
        case .truncated(let path, let expected, let read):
            return "\(path): truncated or corrupt: the header announces \(expected) frames but only \(read) could be decoded"
        case .tooLong(let path, let seconds, let limit):
            return "\(path): \(Int(seconds)) s of audio is over the limit of \(Int(limit)) s"
        }
    }
}
