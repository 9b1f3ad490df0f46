import Foundation
import HarkCapture
import Testing
import TestSupport

/// ALSASource against real ALSA PCMs from a private configuration: `type file` (exact samples from a
/// raw file) and `type pulse` (real-time capture of a PulseAudio monitor).
@Suite struct ALSACaptureTests {
    struct FileCase: Sendable, CustomTestStringConvertible {
        var format: ALSASampleFormat
        var rate: Int
        var channels: Int
        var testDescription: String { "\(format.rawValue) \(rate) Hz \(channels) ch" }
    }

    /// Writes `frames` frames of a deterministic pattern (full-scale extremes first) in `format`,
    /// returning the file's bytes and the Float32 values Hark must deliver for them.
    static func pattern(_ format: ALSASampleFormat, samples count: Int) -> (Data, [Float]) {
        var state: UInt32 = 12345
        func next() -> UInt32 {
            state = state &* 1_664_525 &+ 1_013_904_223
            return state
        }
        switch format {
        case .s16le:
            let values = [Int16.min, Int16.max, 0, -1, 1] + (5..<count).map { _ in Int16(truncatingIfNeeded: next() >> 16) }
            return (RawPCM.int16(values), values.map { Float($0) / 32768 })
        case .s32le:
            let values = [Int32.min, Int32.max, 0, -1, 1] + (5..<count).map { _ in Int32(bitPattern: next()) }
            return (RawPCM.int32(values), values.map { Float($0) / 2_147_483_648 })
        case .f32le:
            let values: [Float] = [-1, 1, 0, -0.5, 0.25] + (5..<count).map { _ in Float(Int32(bitPattern: next())) / 2_147_483_648 }
            return (RawPCM.float32(values), values)
        }
    }

    @Test(arguments: [
        FileCase(format: .s16le, rate: 44_100, channels: 1),
        FileCase(format: .s32le, rate: 48_000, channels: 2),
        FileCase(format: .f32le, rate: 16_000, channels: 1),
    ])
    func fileCaptureReturnsTheFileSamplesExactly(_ c: FileCase) async throws {
        let dir = try TestPaths.temporaryDirectory("hark-alsa-file")
        defer { try? FileManager.default.removeItem(at: dir) }
        // 3.5 blocks: the last block runs past the file's end, where the plugin repeats stale data.
        let frames = CaptureBlock.frames(rate: c.rate) * 7 / 2
        let (bytes, expected) = Self.pattern(c.format, samples: frames * c.channels)
        let raw = dir.appendingPathComponent("capture.raw")
        try bytes.write(to: raw)
        let config = try ALSAConfig(directory: dir, captureFile: raw)

        let run = try #require(await capture(frames: frames, timeout: 20, alsa: config) {
            ALSASource(pcm: "filecap", sampleRate: c.rate, channels: c.channels, sampleFormat: c.format)
        })
        #expect(run.error == nil, "\(String(describing: run.error))")
        #expect(run.format == CaptureFormat(sampleRate: c.rate, channels: c.channels))
        #expect(run.blocks == 4)
        #expect(run.samples.count == 4 * CaptureBlock.frames(rate: c.rate) * c.channels)
        #expect(run.overruns == 0)
        let got = Array(run.samples.prefix(expected.count))
        let mismatches = zip(got, expected).filter { $0 != $1 }.count
        #expect(mismatches == 0, "\(mismatches) of \(expected.count) samples differ; first: \(got.prefix(5)) vs \(expected.prefix(5))")
    }

    @Test func withoutARequestTheDeviceRatePrefers48kHzMono() async throws {
        let dir = try TestPaths.temporaryDirectory("hark-alsa-default")
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = dir.appendingPathComponent("capture.raw")
        try RawPCM.int16([Int16](repeating: 1000, count: 9_600)).write(to: raw)
        let config = try ALSAConfig(directory: dir, captureFile: raw)
        let run = try #require(await capture(frames: 4_800, timeout: 20, alsa: config) { ALSASource(pcm: "filecap") })
        #expect(run.error == nil, "\(String(describing: run.error))")
        // `null` (behind `file`) takes any rate and channel count: the preference order decides.
        #expect(run.format == CaptureFormat(sampleRate: 48_000, channels: 1))
        #expect(run.samples.count == 4_800)
        #expect(run.samples.allSatisfy { $0 == 1000 / 32768 })
    }

    /// The question the CLI tests depend on: ALSA_CONFIG_PATH changed in-process after ALSA loaded a
    /// configuration takes effect on the next open (alsa-lib rereads when the file list changes).
    @Test func alsaRereadsTheConfigurationPathInProcess() async throws {
        let dir = try TestPaths.temporaryDirectory("hark-alsa-reload")
        defer { try? FileManager.default.removeItem(at: dir) }
        var seen: [Float] = []
        for (index, value) in [Int16(1234), Int16(-4321)].enumerated() {
            let sub = dir.appendingPathComponent("\(index)")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            let raw = sub.appendingPathComponent("capture.raw")
            try RawPCM.int16([Int16](repeating: value, count: 1_600)).write(to: raw)
            let config = try ALSAConfig(directory: sub, captureFile: raw)
            let run = try #require(await capture(frames: 1_600, timeout: 20, alsa: config) {
                ALSASource(pcm: "filecap", sampleRate: 16_000, channels: 1)
            })
            #expect(run.error == nil, "\(String(describing: run.error))")
            seen.append(run.samples.first ?? .nan)
        }
        #expect(seen == [1234 / 32768, -4321 / 32768])
    }

    @Test func pulsePluginCapturesTheMonitorInRealTime() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let dir = try TestPaths.temporaryDirectory("hark-alsa-pulse")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tone = try WAVWriter.write(WAVWriter.tone(frequency: 1_000, seconds: 10, rate: 44_100, amplitude: 0.5),
                                       rate: 44_100, to: dir.appendingPathComponent("tone.wav"))
        let config = try ALSAConfig(directory: dir, pulseServer: pulse.server, pulseSource: pulse.monitorName)

        let started = Date()
        // 4 s, so the tone (which an idle sink passes on ~2 s after the player connects) fills the
        // whole last second even when the start is late.
        let run = try #require(await capture(frames: 48_000 * 4, timeout: 30, alsa: config,
                                             onOpen: { _ = try? pulse.play(path: tone.path) }) {
            ALSASource(pcm: "pulsecap", sampleFormat: .f32le)
        })
        let elapsed = Date().timeIntervalSince(started)
        #expect(run.error == nil, "\(String(describing: run.error))")
        // The plugin offers any rate; Hark's preference (48 kHz mono) wins, the server converts.
        #expect(run.format == CaptureFormat(sampleRate: 48_000, channels: 1))
        #expect(run.samples.count == 48_000 * 4)
        // Real-time pacing: 4 s of audio takes about 4 s to arrive.
        #expect(elapsed > 3.5, "4 s captured in \(elapsed) s")
        // The last second is the tone: RMS 0.5/√2, and 1 kHz at 48 kHz (a wrong rate would shift it).
        let last = run.samples.suffix(48_000)
        #expect(abs(Signal.rms(last) - 0.3536) < 0.02, "RMS \(Signal.rms(last))")
        let frequency = Signal.zeroCrossingFrequency(last, rate: 48_000)
        #expect(abs(frequency - 1_000) < 5, "tone at \(frequency) Hz")
    }

    @Test func pulsePluginReportsADeadServerAsDisconnected() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let dir = try TestPaths.temporaryDirectory("hark-alsa-pulse-kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try ALSAConfig(directory: dir, pulseServer: pulse.server, pulseSource: pulse.monitorName)

        let killedAt = LockedDate()
        let run = try #require(await capture(frames: 48_000 * 30, timeout: 30, alsa: config, onOpen: {
            DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) {
                killedAt.set(Date())
                pulse.kill()
            }
        }) { ALSASource(pcm: "pulsecap") })
        let delay = run.endedAt.timeIntervalSince(try #require(killedAt.value))
        #expect(run.error == .disconnected(source: "alsa:pulsecap", reason: "Input/output error"))
        // Usually under 2 s; allow for a loaded machine. The point: it surfaces, it never hangs.
        #expect(delay < 10, "disconnect surfaced \(delay) s after the kill")
    }

    @Test func rateTheDeviceCannotCaptureIsAClearError() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let dir = try TestPaths.temporaryDirectory("hark-alsa-rate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try ALSAConfig(directory: dir, pulseServer: pulse.server, pulseSource: pulse.monitorName)
        let source = ALSASource(pcm: "pulsecap", sampleRate: 1_000_000)
        let error = config.withActivated { #expect(throws: CaptureError.self) { try source.open() } }
        guard case .invalidConfiguration(let why) = error else {
            Issue.record("expected .invalidConfiguration, got \(String(describing: error))")
            return
        }
        #expect(why.hasPrefix("alsa:pulsecap cannot capture at 1000000 Hz"), "\(why)")
        #expect(error?.isRetryable == false)
    }

    /// A reader that falls more than a buffer behind a real ALSA PCM gets an overrun (-EPIPE from
    /// alsa-lib); ALSASource recovers in place, counts it and reads on.
    @Test func aReaderThatFallsBehindOverrunsAndReadsOn() async throws {
        let dir = try TestPaths.temporaryDirectory("hark-alsa-xrun")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try ALSAConfig(directory: dir, xrunPlugin: try ALSAConfig.buildXrunPlugin(in: dir))
        struct Outcome: Sendable {
            var overrunsBefore = 0, overrunsAfter = 0, peakAfter: Float = 0
            var error: CaptureError?
        }
        let outcome = try #require(await onOwnThread(timeout: 30) { () -> Outcome in
            var outcome = Outcome()
            let source = ALSASource(pcm: "xruncap", sampleRate: 48_000, channels: 1, sampleFormat: .s16le)
            let open = { () -> CaptureError? in
                do throws(CaptureError) { try source.open() } catch { return error }
                return nil
            }
            if let error = config.withActivated(open) {
                outcome.error = error
                return outcome
            }
            defer { source.close() }
            do throws(CaptureError) {
                for _ in 0..<10 { _ = try source.read() }
                outcome.overrunsBefore = source.overruns
                Thread.sleep(forTimeInterval: 2.5)  // the ring holds about a second
                var after: [Float] = []
                for _ in 0..<10 { after += try source.read() }
                outcome.overrunsAfter = source.overruns
                outcome.peakAfter = after.map(abs).max() ?? 0
            } catch {
                outcome.error = error
            }
            return outcome
        }, "capture stalled")
        #expect(outcome.error == nil, "\(String(describing: outcome.error))")
        #expect(outcome.overrunsBefore == 0)
        #expect(outcome.overrunsAfter == 1)
        #expect(outcome.peakAfter > 0.2, "the tone goes on after the recovery")
    }

    @Test func unknownPCMIsNotFoundAndNamesThePCM() throws {
        let dir = try TestPaths.temporaryDirectory("hark-alsa-unknown")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try ALSAConfig(directory: dir)
        let source = ALSASource(pcm: "hark_no_such_pcm")
        #expect(source.name == "alsa:hark_no_such_pcm")
        let error = config.withActivated { #expect(throws: CaptureError.self) { try source.open() } }
        #expect(error == .deviceNotFound(source: "alsa:hark_no_such_pcm", reason: "No such file or directory"))
        #expect(error?.description == "alsa:hark_no_such_pcm: no such capture device (No such file or directory)")
        #expect(error?.isRetryable == true)
    }
}

/// A date set on one thread and read on another.
final class LockedDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date?
    func set(_ d: Date) { lock.withLock { date = d } }
    var value: Date? { lock.withLock { date } }
}
