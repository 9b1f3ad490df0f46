import CPulse

/// Captures from a PulseAudio source (a microphone, or `SINK.monitor` to hear what a sink plays)
/// as Float32, with blocking reads (`PulseRecordStream`, a hang-free stand-in for `pa_simple`).
///
/// Owned by one capture thread. With no explicit rate/channels the source's own sample spec is used
/// (asked of the server), so the server does not resample and Hark resamples once itself.
/// A dead or killed server ends `read()` with `.disconnected`; `close()` then `open()` reconnects.
public final class PulseSource: AudioSource {
    public let sourceName: String?
    public let server: String?
    public var name: String { "pulse:\(sourceName ?? "default")" }
    public private(set) var format: CaptureFormat
    /// Gaps the server reported in the stream (it dropped audio because Hark read too slowly).
    public var overruns: Int { lost + (stream?.holes ?? 0) }

    /// Used when the server cannot tell the source's own format.
    static let fallbackFormat = CaptureFormat(sampleRate: 48_000, channels: 1)

    private let requestedRate: Int?
    private let requestedChannels: Int?
    private let applicationName: String
    private var stream: PulseRecordStream?
    /// Holes counted by streams already closed.
    private var lost = 0

    /// - Parameters:
    ///   - source: a source name (`hark_test.monitor`); nil for the server's default source.
    ///   - server: e.g. `unix:/run/user/1000/pulse/native`; nil for the usual lookup (PULSE_SERVER, …).
    public init(source: String?, server: String? = nil, sampleRate: Int? = nil, channels: Int? = nil,
                applicationName: String = "hark") {
        self.sourceName = source
        self.server = server
        self.requestedRate = sampleRate
        self.requestedChannels = channels
        self.applicationName = applicationName
        self.format = CaptureFormat(sampleRate: sampleRate ?? 0, channels: channels ?? 0)
    }

    deinit { close() }

    public func open() throws(CaptureError) {
        close()
        let chosen = try chooseFormat()
        let spec = pa_sample_spec(format: PA_SAMPLE_FLOAT32LE, rate: UInt32(chosen.sampleRate), channels: UInt8(chosen.channels))
        let blockSamples = CaptureBlock.frames(rate: chosen.sampleRate) * chosen.channels
        do {
            stream = try PulseRecordStream(server: server, applicationName: applicationName, source: sourceName,
                                           spec: spec, fragmentBytes: blockSamples * MemoryLayout<Float>.size)
        } catch {
            if error.code == Int32(PA_ERR_NOENTITY.rawValue) { throw .deviceNotFound(source: name, reason: error.message) }
            throw .openFailed(source: name, reason: error.message)
        }
        format = chosen
    }

    public func read() throws(CaptureError) -> [Float] {
        guard let stream else { throw .disconnected(source: name, reason: "not open") }
        do {
            return try stream.read(CaptureBlock.frames(rate: format.sampleRate) * format.channels)
        } catch {
            throw .disconnected(source: name, reason: error.message)
        }
    }

    public func close() {
        lost += stream?.holes ?? 0
        stream = nil
    }

    /// The requested format, filling gaps from the source's own sample spec when the server answers.
    private func chooseFormat() throws(CaptureError) -> CaptureFormat {
        var chosen = CaptureFormat(sampleRate: requestedRate ?? 0, channels: requestedChannels ?? 0)
        if requestedRate == nil || requestedChannels == nil {
            // A failed query is not fatal here: connecting the stream reports the real error just after.
            let native = (try? PulseIntrospection.source(named: sourceName, server: server).get())
                .map { CaptureFormat(sampleRate: $0.sampleRate, channels: $0.channels) } ?? Self.fallbackFormat
            if requestedRate == nil { chosen.sampleRate = native.sampleRate }
            if requestedChannels == nil { chosen.channels = native.channels }
        }
        guard (1...Int(PA_RATE_MAX)).contains(chosen.sampleRate) else {
            throw .invalidConfiguration("\(name): sample rate \(chosen.sampleRate) Hz is outside 1–\(PA_RATE_MAX)")
        }
        guard (1...Int(PA_CHANNELS_MAX)).contains(chosen.channels) else {
            throw .invalidConfiguration("\(name): \(chosen.channels) channels is outside 1–\(PA_CHANNELS_MAX)")
        }
        return chosen
    }
}
