import Foundation
import HarkAnalysis
import HarkClassifier
import HarkEngine
import Testing
import TestSupport

/// `hark listen` over real capture: a private PulseAudio daemon with a null sink, fold-5 ESC-50
/// clips played into it with paplay, captured from its monitor (directly, and through ALSA's
/// `pulse` plugin), and an ALSA `type file` PCM. The right labels must arrive within
/// window + hop seconds.
@Suite(.serialized) struct LiveCaptureTests {
    static let window = 5.0, hop = 1.0
    let model = TestPaths.shippedModelCard

    typealias Clip = ConfidentClips.Clip

    func events(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap(Self.object)
    }

    static func object(_ line: Substring) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    func waitFor(_ run: HarkProcess.Running, timeout: Double, _ match: @escaping @Sendable ([String: Any]) -> Bool) async throws -> [String: Any]? {
        try await run.waitForLine(timeout: timeout) { Self.object($0).map(match) ?? false }
            .flatMap { Self.object(Substring($0)) }
    }

    static let iso = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    func isStart(of label: String) -> @Sendable ([String: Any]) -> Bool {
        { $0["phase"] as? String == "start" && $0["label"] as? String == label }
    }

    /// Plays each clip into the sink and checks its event start arrives within window + hop.
    func playAndExpect(_ pulse: PulseAudioDaemon, _ hark: HarkProcess.Running) async throws {
        for clip in try await Self.confidentClips() {
            let played = Date()
            let player = try pulse.play(path: clip.path)
            let event = try await waitFor(hark, timeout: 20, isStart(of: clip.label))
            let seen = try #require(event, "no \(clip.label) event; output: \(hark.stdoutText.suffix(2000))")
            let at = try #require((seen["wall_time"] as? String).flatMap { try? Self.iso.parse($0) })
            let delay = at.timeIntervalSince(played)
            #expect(delay <= Self.window + Self.hop, "\(clip.label) reported \(delay) s after it began")
            try await offThread { player.waitUntilExit() }
            try await pause(3)  // let the event end before the next clip
        }
    }

    func listen(_ source: String, environment: [String: String], extra: [String] = []) throws -> HarkProcess.Running {
        let hark = HarkProcess.start(["listen", "--model", model, "--source", source, "--emit", "events,status"] + extra,
                                     environment: environment)
        try hark.process.run()
        return hark
    }

    /// Waits for capture to run, plus the ~2 s an idle monitor takes to deliver its first block.
    func waitUntilFlowing(_ hark: HarkProcess.Running) async throws {
        #expect(try await waitFor(hark, timeout: 20) { $0["status"] as? String == "capture_started" } != nil, "\(hark.stdoutText)")
        try await pause(2.5)
    }

    func stop(_ hark: HarkProcess.Running) async throws -> HarkProcess.Result {
        hark.process.terminate()
        return try await hark.finish()
    }

    /// The clips, chosen off the test thread (classifying takes a while in a debug build).
    static func confidentClips() async throws -> [Clip] { try await offThread { ConfidentClips.shippedModel } }

    @Test func pulseAudioMonitor() async throws {
        #expect(try await Self.confidentClips().count == 2, "the shipped model should recognise two fold-5 clips from their first seconds")
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let hark = try listen("pulse:\(pulse.monitorName)", environment: pulse.clientEnvironment)
        try await waitUntilFlowing(hark)
        try await playAndExpect(pulse, hark)
        let result = try await stop(hark)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = events(result.stdout).last { $0["status"] as? String == "stopped" }?["summary"] as? [String: Any]
        #expect(summary?["windows_overwritten"] as? Int == 0)
    }

    @Test func alsaPulsePlugin() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let alsa = try ALSAConfig(directory: try TestPaths.temporaryDirectory(), pulseServer: pulse.server,
                                  pulseSource: pulse.monitorName)
        let hark = try listen("alsa:pulsecap", environment: alsa.environment)
        try await waitUntilFlowing(hark)
        try await playAndExpect(pulse, hark)
        #expect(try await stop(hark).status == 0)
    }

    @Test func alsaFilePCM() async throws {
        // Two clips with 3 s of silence between, as raw 16-bit PCM at 44.1 kHz.
        let rate = 44100
        var samples: [Float] = []
        var starts: [Double] = []
        for clip in try await Self.confidentClips() {
            starts.append(Double(samples.count) / Double(rate))
            samples += try PreparedAudio.load(path: clip.path, sampleRate: rate).samples
            samples += [Float](repeating: 0, count: 3 * rate)
        }
        let dir = try TestPaths.temporaryDirectory()
        let raw = dir.appendingPathComponent("clips.raw")
        try WAVWriter.data(samples, channels: 1, rate: rate).dropFirst(44).write(to: raw)
        let alsa = try ALSAConfig(directory: dir, captureFile: raw)
        // The file plugin returns data as fast as it is read: --realtime paces it like a device.
        let hark = try listen("alsa:filecap", environment: alsa.environment,
                              extra: ["--rate", "\(rate)", "--channels", "1", "--format", "s16le", "--realtime"])
        for (clip, start) in zip(try await Self.confidentClips(), starts) {
            let seen = try #require(try await waitFor(hark, timeout: 30, isStart(of: clip.label)), "no \(clip.label): \(hark.stdoutText)")
            let at = try #require(seen["stream_time"] as? Double)
            #expect(at - start <= Self.window + Self.hop, "\(clip.label) reported at stream \(at) s, began at \(start) s")
        }
        #expect(try await stop(hark).status == 0)
    }

    @Test func aKilledPulseAudioServerIsSurvived() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let hark = try listen("pulse:\(pulse.monitorName)", environment: pulse.clientEnvironment)
        try await waitUntilFlowing(hark)
        pulse.kill()
        #expect(try await waitFor(hark, timeout: 10) { $0["status"] as? String == "capture_lost" } != nil, "no capture_lost")
        try await pause(1.5)
        try pulse.start()
        #expect(try await waitFor(hark, timeout: 20) { $0["status"] as? String == "capture_recovered" } != nil, "no capture_recovered")
        #expect(hark.process.isRunning)
        try await pause(2.5)
        try await playAndExpect(pulse, hark)
        let result = try await stop(hark)
        #expect(result.status == 0)
        let summary = events(result.stdout).last { $0["status"] as? String == "stopped" }?["summary"] as? [String: Any]
        #expect((summary?["capture_losses"] as? Int ?? 0) >= 1)
    }
}
