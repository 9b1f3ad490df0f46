/// What a source delivers: interleaved Float32 frames at `sampleRate` with `channels` channels.
public struct CaptureFormat: Sendable, Equatable, CustomStringConvertible {
    public var sampleRate: Int
    public var channels: Int

    public init(sampleRate: Int, channels: Int) {
        self.sampleRate = sampleRate
        self.channels = channels
    }

    public var description: String { "\(sampleRate) Hz, \(channels) ch" }
}

/// Why capture stopped. `disconnected` is worth retrying (lost device, dead PulseAudio server);
/// `endOfStream` is the normal end of a file or of stdin.
public enum CaptureError: Error, Equatable, CustomStringConvertible {
    case deviceNotFound(source: String, reason: String)
    case openFailed(source: String, reason: String)
    case disconnected(source: String, reason: String)
    case endOfStream(source: String)
    /// A file that cannot be decoded: retrying would not help.
    case unreadableInput(source: String, reason: String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .deviceNotFound(let s, let r): return "\(s): no such capture device (\(r))"
        case .openFailed(let s, let r): return "\(s): cannot open for capture (\(r))"
        case .disconnected(let s, let r): return "\(s): capture lost (\(r))"
        case .endOfStream(let s): return "\(s): end of stream"
        case .unreadableInput(let s, let r): return "\(s): \(r)"
        case .invalidConfiguration(let why): return "invalid capture configuration: \(why)"
        }
    }

    /// Whether reopening the source later may succeed.
    public var isRetryable: Bool {
        switch self {
        case .disconnected, .deviceNotFound, .openFailed: return true
        case .endOfStream, .unreadableInput, .invalidConfiguration: return false
        }
    }
}

/// A live audio source with blocking reads, driven by one capture thread (not thread-safe).
///
/// Life cycle: `open()` → `read()` repeatedly → `close()`. After a `disconnected` error the
/// owner calls `close()` and later `open()` again to resume.
public protocol AudioSource: AnyObject {
    /// A stable name such as `pulse:hark_test.monitor`, `alsa:default` or `file:clip.wav`.
    var name: String { get }
    /// The delivered format; valid after `open()`.
    var format: CaptureFormat { get }
    /// Overruns (ALSA xruns, …) recovered since creation: audio the device dropped.
    var overruns: Int { get }
    func open() throws(CaptureError)
    /// Blocks until the next block (about 100 ms) is captured; returns interleaved frames.
    func read() throws(CaptureError) -> [Float]
    func close()
}

/// Capture block length: the latency/overhead trade-off of every source.
public enum CaptureBlock {
    public static let seconds = 0.1
    public static func frames(rate: Int) -> Int { max(1, Int(Double(rate) * seconds)) }
}
