/// A `--source` argument: `alsa[:PCM]`, `pulse[:SOURCE]`, `file:PATH`, or `-` for raw PCM on stdin.
public enum SourceSpec: Sendable, Equatable, CustomStringConvertible {
    case alsa(pcm: String)
    case pulse(source: String?)
    case file(path: String)
    case standardInput

    public init(parsing text: String) throws(CaptureError) {
        if text == "-" {
            self = .standardInput
            return
        }
        let (kind, rest) = text.split(separator: ":", maxSplits: 1).map(String.init).splitFirst()
        switch kind {
        case "alsa": self = .alsa(pcm: rest.flatMap { $0.isEmpty ? nil : $0 } ?? "default")
        case "pulse": self = .pulse(source: rest.flatMap { $0.isEmpty ? nil : $0 })
        case "file":
            guard let path = rest, !path.isEmpty else { throw .invalidConfiguration("file: needs a path, e.g. file:clip.wav") }
            self = .file(path: path)
        default:
            throw .invalidConfiguration("unknown source '\(text)'; use alsa[:PCM], pulse[:SOURCE], file:PATH or -")
        }
    }

    public var description: String {
        switch self {
        case .alsa(let pcm): return "alsa:\(pcm)"
        case .pulse(let source): return "pulse:\(source ?? "default")"
        case .file(let path): return "file:\(path)"
        case .standardInput: return "stdin"
        }
    }
}

extension Array where Element == String {
    fileprivate func splitFirst() -> (String, String?) { (first ?? "", count > 1 ? self[1] : nil) }
}
