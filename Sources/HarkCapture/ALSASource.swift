import CALSA
import Glibc

/// Captures from an ALSA PCM (`default`, `plughw:CARD=X,DEV=0`, or any PCM in the configuration).
///
/// Owned by one capture thread. `read()` blocks for one block of `CaptureBlock.frames(rate:)` frames.
/// Overruns and suspends are recovered in place and counted; a vanished device ends with `.disconnected`.
public final class ALSASource: AudioSource {
    public let pcmName: String
    public var name: String { "alsa:\(pcmName)" }
    public private(set) var format: CaptureFormat
    public private(set) var overruns = 0

    private let setup: ALSAHardwareSetup
    private var pcm: OpaquePointer?
    private var raw: [UInt8] = []
    private var samples: [Float] = []

    public init(pcm: String, sampleRate: Int? = nil, channels: Int? = nil, sampleFormat: ALSASampleFormat = .s16le) {
        self.pcmName = pcm
        self.setup = ALSAHardwareSetup(sampleRate: sampleRate, channels: channels, sampleFormat: sampleFormat)
        self.format = CaptureFormat(sampleRate: sampleRate ?? 0, channels: channels ?? 0)
    }

    deinit { close() }

    public func open() throws(CaptureError) {
        close()
        var handle: OpaquePointer?
        let code = snd_pcm_open(&handle, pcmName, SND_PCM_STREAM_CAPTURE, 0)
        guard code >= 0, let handle else {
            let reason = alsaMessage(code)
            // ENOENT: no PCM of that name in the configuration; ENODEV: no such card.
            if code == -ENOENT || code == -ENODEV { throw .deviceNotFound(source: name, reason: reason) }
            throw .openFailed(source: name, reason: reason)
        }
        do {
            format = try setup.apply(to: handle, source: name)
        } catch {
            snd_pcm_close(handle)
            throw error
        }
        pcm = handle
        let frames = CaptureBlock.frames(rate: format.sampleRate)
        raw = [UInt8](repeating: 0, count: frames * format.channels * setup.sampleFormat.bytesPerSample)
    }

    public func read() throws(CaptureError) -> [Float] {
        guard let pcm else { throw .disconnected(source: name, reason: "not open") }
        let frameBytes = format.channels * setup.sampleFormat.bytesPerSample
        let frames = raw.count / frameBytes
        var filled = 0
        while filled < frames {
            let got = raw.withUnsafeMutableBytes { buffer in
                snd_pcm_readi(pcm, buffer.baseAddress.map { $0 + filled * frameBytes }, snd_pcm_uframes_t(frames - filled))
            }
            if got > 0 {
                filled += got
                continue
            }
            let code = Int32(truncatingIfNeeded: got)
            switch code {
            case 0, -EAGAIN:
                _ = snd_pcm_wait(pcm, 100)  // nothing yet: wait rather than spin
            case -EPIPE, -ESTRPIPE, -EINTR:
                // Overrun or system suspend: the device dropped audio; restart the stream and go on.
                let recovered = snd_pcm_recover(pcm, code, 1)
                if recovered < 0 { throw .disconnected(source: name, reason: alsaMessage(recovered)) }
                if code != -EINTR { overruns += 1 }
            default:
                // ENODEV (unplugged), EBADFD, EIO (e.g. the PulseAudio plugin's server died): gone.
                throw .disconnected(source: name, reason: alsaMessage(code))
            }
        }
        raw.withUnsafeBytes { setup.sampleFormat.convert($0, count: frames * format.channels, into: &samples) }
        return samples
    }

    public func close() {
        guard let pcm else { return }
        snd_pcm_close(pcm)
        self.pcm = nil
    }
}
