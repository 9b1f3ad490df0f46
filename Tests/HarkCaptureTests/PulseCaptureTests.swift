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
        let pulse = try PulseAudioDaemon()
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

        // Find where the clip's second 1 begins in the capture by exact match, then expect every
        // overlapping sample to be the clip's, exactly: s16 → null sink → monitor → float32 at unit
        // volume is lossless. (An idle null sink can drop the clip's first few milliseconds.)
        let captured = run.samples
        let key = 44_100
        let at = try #require(Signal.firstExactMatch(of: reference[key..<(key + 32)], in: captured),
                              "the clip's samples never appear in the capture")
        let offset = at - key  // captured index of clip sample 0 (negative: the start was lost)
        let first = max(0, -offset), overlap = min(reference.count, captured.count - offset) - first
        #expect(overlap >= 44_100 * 3, "only \(overlap) samples of the clip were captured")
        let mismatches = (first..<(first + overlap)).filter { captured[$0 + offset] != reference[$0] }.count
        #expect(mismatches == 0, "\(mismatches) of \(overlap) samples differ")
        #expect(captured[..<max(0, offset)].allSatisfy { $0 == 0 }, "noise before the clip")
        #expect(first < 4_410, "the first \(first) samples of the clip were lost")
        #expect(Signal.rms(captured[(first + offset)...]) > 0.1)
        print("pulse: first block after \(run.firstBlockSeconds ?? -1) s; blocks at \(run.arrivals.map { String(format: "%.2f", $0) }); clip offset \(offset)")
    }

    @Test func honoursAnExplicitRateAndChannelCount() async throws {
        let pulse = try PulseAudioDaemon()
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
        let pulse = try PulseAudioDaemon()
        defer { pulse.stop() }
        let dir = try TestPaths.temporaryDirectory("hark-pulse-kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tone = try WAVWriter.write(WAVWriter.tone(frequency: 440, seconds: 20, rate: 44_100),
                                       rate: 44_100, to: dir.appendingPathComponent("tone.wav"))
        let server = pulse.server, monitor = pulse.monitorName
        let capturing = Flag()

        // Capture thread: read a few blocks, then keep reading until the server's death surfaces.
        async let outcome = onOwnThread(timeout: 30) { () -> (blocks: Int, error: CaptureError?, at: Date) in
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
        #expect(await capturing.wait(seconds: 15), "no audio before the kill")
        let killedAt = Date()
        pulse.kill()
        let result = try #require(await outcome, "read() hung after the server died")
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
        try pulse.restart()
        try pulse.play(path: tone.path)
        let again = try #require(await capture(frames: 44_100, timeout: 20) { PulseSource(source: monitor, server: server) })
        #expect(again.error == nil, "\(String(describing: again.error))")
        #expect(Signal.rms(again.samples.suffix(22_050)) > 0.2, "the tone (RMS 0.35) should be heard after restart")
    }

    @Test func deadServerFailsToOpenWithARetryableErrorNamingTheSource() async throws {
        let pulse = try PulseAudioDaemon()
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
        let pulse = try PulseAudioDaemon()
        defer { pulse.stop() }
        let source = PulseSource(source: "no_such_source", server: pulse.server)
        #expect(throws: CaptureError.deviceNotFound(source: "pulse:no_such_source", reason: "No such entity")) {
            try source.open()
        }
        #expect(PulseSource(source: nil).name == "pulse:default")
    }
}
