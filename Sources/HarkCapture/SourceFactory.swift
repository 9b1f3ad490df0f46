import Foundation

/// Builds the capture source a `--source` names, with the capture options that apply to it.
public struct SourceFactory: Sendable {
    public let spec: SourceSpec
    public let loops: Bool
    public let format: String?
    public let rate: Int?
    public let channels: Int?

    public init(spec: SourceSpec, loops: Bool, format: String?, rate: Int?, channels: Int?) throws(CaptureError) {
        if case .standardInput = spec {
            guard let format, RawInputSource.SampleFormat(rawValue: format) != nil else {
                throw .invalidConfiguration("--source - needs --format s16le or --format f32le")
            }
            guard rate != nil else { throw .invalidConfiguration("--source - needs --rate (Hz)") }
        }
        if let format, ALSASampleFormat(rawValue: format) == nil {
            throw .invalidConfiguration("unknown --format '\(format)'; use s16le, s32le or f32le")
        }
        self.spec = spec
        self.loops = loops
        self.format = format
        self.rate = rate
        self.channels = channels
    }

    public func make() throws -> any AudioSource {
        switch spec {
        case .alsa(let pcm):
            return ALSASource(pcm: pcm, sampleRate: rate, channels: channels,
                              sampleFormat: format.flatMap(ALSASampleFormat.init(rawValue:)) ?? .s16le)
        case .pulse(let source):
            return PulseSource(source: source, sampleRate: rate, channels: channels)
        case .file(let path):
            return FileSource(path: path, loops: loops)
        case .standardInput:
            return try RawInputSource(sampleFormat: format.flatMap(RawInputSource.SampleFormat.init(rawValue:)) ?? .s16le,
                                      sampleRate: rate ?? 0, channels: channels ?? 1)
        }
    }

    /// PulseAudio when a server is reachable (PULSE_SERVER or the user's runtime socket), else ALSA
    /// when the machine has a capture device, else nil: no microphone at all.
    public static func defaultSpec() -> SourceSpec? {
        let env = ProcessInfo.processInfo.environment
        if env["PULSE_SERVER"] != nil { return .pulse(source: nil) }
        let runtime = env["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())"
        if FileManager.default.fileExists(atPath: "\(runtime)/pulse/native") { return .pulse(source: nil) }
        let devices = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/snd")) ?? []
        if devices.contains(where: { $0.hasPrefix("pcmC") && $0.hasSuffix("c") }) { return .alsa(pcm: "default") }
        return nil
    }
}
