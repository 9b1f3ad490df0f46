import Foundation
import HarkCapture
import Testing
import TestSupport

/// PulseSource against a real PulseAudio daemon per test: audio played into a null sink with paplay
/// comes back from the sink's monitor.
@Suite struct PulseCaptureTests {
    /// A continuous fold-5 clip (siren), loud from its first second.
    static let clip = "5-117118-A-42.ogg"

    /// Decodes the clip with sox (no dither) to a 16-bit WAV for paplay and the same samples as raw.
    static func clipFiles(in dir: URL) throws -> (wav: URL, samples: [Int16]) {
        let wav = dir.appendingPathComponent("clip.wav"), raw = dir.appendingPathComponent("clip.raw")
        try runTool("/usr/bin/sox", [TestPaths.esc50Clip(clip), "-D", "-b", "16", "-e", "signed-integer", wav.path])
        try runTool("/usr/bin/sox", [wav.path, "-t", "raw", raw.path])
        return (wav, try RawPCM.readInt16(raw))
    }

    @Test func capturesTheClipPlayedIntoTheNullSinkSampleForSample() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let dir = try TestPaths.temporaryDirectory("hark-pulse-clip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (wav, clip) = try Self.clipFiles(in: dir)
        let reference = clip.map { Float($0) / 32768 }

        let server = pulse.server, monitor = pulse.monitorName
        let run = try #require(await capture(frames: 44_100 * 4, timeout: 30, onOpen: { _ = try? pulse.play(path: wav.path) }) {
            PulseSource(source: monitor, server: server)
        })
        #expect(run.error == nil, "\(String(describing: run.error))")
        // No rate/channels asked: the monitor's own spec (the sink's 44.1 kHz mono) is used.
        #expect(run.format == CaptureFormat(sampleRate: 44_100, channels: 1))
        #expect(run.blocks >= 40)
        #expect(run.overruns == 0, "the source lost or skipped audio")

        // Lossless transport: s16 → null sink → monitor → float32 at unit volume changes no sample.
        // The clip is cut into 0.1-s chunks, and each must appear in the capture bit for bit, in
        // order. A starved player (a loaded machine) can make the sink insert silence between
        // chunks, so a chunk cut by such a gap may miss; 85 % must arrive exactly, and the source
        // itself must report no loss.
        let captured = run.samples
        let chunk = 4_410
        var cursor = 0, found = 0, firstFound: Int?
        let chunks = reference.count / chunk
        for c in 0..<chunks {
            let piece = Array(reference[(c * chunk)..<((c + 1) * chunk)])
            guard let at = Signal.firstExactMatch(of: piece[0..<32], in: Array(captured[cursor...])).map({ $0 + cursor }),
                  at + chunk <= captured.count, Array(captured[at..<(at + chunk)]) == piece else { continue }
            found += 1
            firstFound = firstFound ?? (at - c * chunk)  // where clip sample 0 lies in the capture
            cursor = at + chunk
        }
        let offset = max(0, firstFound ?? 0)
        // Chunks that fit between the clip's start in the capture and the capture's end.
        let possible = min(chunks, (captured.count - offset) / chunk)
        #expect(found >= 25, "only \(found) clip chunks (2.5 s) arrived bit-exact")
        #expect(found * 100 >= possible * 85, "\(found) of \(possible) clip chunks arrived bit-exact")
        #expect(captured[..<offset].allSatisfy { $0 == 0 }, "noise before the clip")
        #expect(offset < 44_100 * 3, "the clip arrived \(offset) samples into the capture")
        #expect(Signal.rms(captured[offset...]) > 0.1)
        print("pulse: first block after \(run.firstBlockSeconds ?? -1) s; \(found)/\(chunks) chunks exact; clip at \(offset)")
    }

    @Test func honoursAnExplicitRateAndChannelCount() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let server = pulse.server, monitor = pulse.monitorName
        let run = try #require(await capture(frames: 3_200, timeout: 20) {
            PulseSource(source: monitor, server: server, sampleRate: 16_000, channels: 2)
        })
        #expect(run.error == nil)
        #expect(run.format == CaptureFormat(sampleRate: 16_000, channels: 2))
        // One block is 100 ms of interleaved frames.
        #expect(run.samples.count == run.blocks * 1_600 * 2)
    }

    @Test func killedServerDisconnectsPromptlyAndARestartedOneCapturesAgain() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let dir = try TestPaths.temporaryDirectory("hark-pulse-kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tone = try WAVWriter.write(WAVWriter.tone(frequency: 440, seconds: 20, rate: 44_100),
                                       rate: 44_100, to: dir.appendingPathComponent("tone.wav"))
        let server = pulse.server, monitor = pulse.monitorName
        let capturing = Flag()

        // Capture thread: read a few blocks, then keep reading until the server's death surfaces.
        let reader = StartedThread { () -> (blocks: Int, error: CaptureError?, at: Date) in
            let source = PulseSource(source: monitor, server: server)
            defer { source.close() }
            var blocks = 0
            do throws(CaptureError) {
                try source.open()
                while true {
                    _ = try source.read()
                    blocks += 1
                    if blocks == 3 { capturing.raise() }
                }
            } catch {
                capturing.raise()
                return (blocks, error, Date())
            }
        }
        try pulse.play(path: tone.path)
        // Generous: under a loaded test run the daemon may be slow to serve the first blocks;
        // what is timed below is only the kill-to-error delay.
        #expect(await capturing.wait(seconds: 60), "no audio before the kill")
        let killedAt = Date()
        pulse.kill()
        let result = try #require(await reader.result(within: 15), "read() hung after the server died")
        let delay = result.at.timeIntervalSince(killedAt)
        #expect(result.blocks >= 3, "\(String(describing: result.error)); daemon log:\n\(pulse.log)")
        guard case .disconnected(let source, let reason) = result.error else {
            Issue.record("expected .disconnected, got \(String(describing: result.error))")
            return
        }
        #expect(source == "pulse:hark_test.monitor")
        #expect(!reason.isEmpty)
        #expect(result.error?.isRetryable == true)
        #expect(delay >= 0 && delay < 2, "disconnect surfaced \(delay) s after the kill")

        // A restarted server on the same socket: open again and audio flows.
        try await offThread { try pulse.restart() }
        try pulse.play(path: tone.path)
        let again = try #require(await capture(frames: 44_100, timeout: 20) { PulseSource(source: monitor, server: server) })
        #expect(again.error == nil, "\(String(describing: again.error))")
        #expect(Signal.rms(again.samples.suffix(22_050)) > 0.2, "the tone (RMS 0.35) should be heard after restart")
    }

    @Test func deadServerFailsToOpenWithARetryableErrorNamingTheSource() async throws {
        let pulse = try await PulseAudioDaemon.started()
        let server = pulse.server
        pulse.stop()
        let started = Date()
        let source = PulseSource(source: "hark_test.monitor", server: server)
        let error = #expect(throws: CaptureError.self) { try source.open() }
        #expect(error == .openFailed(source: "pulse:hark_test.monitor", reason: "Connection refused"))
        #expect(error?.isRetryable == true)
        #expect(error?.description == "pulse:hark_test.monitor: cannot open for capture (Connection refused)")
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func unknownSourceIsNotFound() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let source = PulseSource(source: "no_such_source", server: pulse.server)
        #expect(throws: CaptureError.deviceNotFound(source: "pulse:no_such_source", reason: "No such entity")) {
            try source.open()
        }
        #expect(PulseSource(source: nil).name == "pulse:default")
    }
}
