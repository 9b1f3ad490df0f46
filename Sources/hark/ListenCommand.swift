import ArgumentParser
import Dispatch
import Foundation
import HarkAnalysis
import HarkCapture
import HarkConfig
import HarkEngine
import HarkStream

struct ListenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Listen continuously and print sound events as JSON lines on stdout.",
        discussion: """
            Every 5-s window (one per --hop) is classified; the detector turns scores into events:
              {"type":"event","phase":"start"|"update"|"end","id","label","emoji","score","peak_score","mean_score",
               "start","end","duration","stream_time","wall_time","windows","class_index"}
            Status lines (capture started/lost/recovered, windows dropped, overruns, stopped + summary) go to
            stderr, or to stdout with --emit status. Schema: docs/listen-output.md.
            Settings come from --config (default \(ConfigFile.systemPath) when it exists); flags override it.
            SIGINT/SIGTERM end open events and exit 0.
            """)

    @Option(help: "Source: alsa[:PCM] (e.g. alsa:default, alsa:plughw:CARD=X,DEV=0), pulse[:SOURCE], file:PATH, or - for raw PCM on stdin. (default: pulse when a PulseAudio server runs, else alsa:default when there is a capture device, else the demo)")
    var source: String?

    @Flag(help: "Play the bundled demo recording as a live stream (no microphone needed).")
    var demo = false

    @Flag(help: "Deliver audio at real-time pace: files play like a microphone instead of as fast as the model goes; stdin counts as a live stream that cannot wait (windows are dropped when the model is behind).")
    var realtime = false

    @Flag(name: .customLong("loop"), help: "With file: sources, start again at the end.")
    var loops = false

    @Option(help: "Raw stdin sample format: s16le or f32le; also the ALSA capture format (default: s16le).")
    var format: String?

    @Option(help: "Capture sample rate in Hz (required for stdin; default: the device's own rate).")
    var rate: Int?

    @Option(help: "Capture channels (default: 1 for stdin; mono or the device minimum otherwise).")
    var channels: Int?

    @Option(help: "Configuration file (TOML). (default: \(ConfigFile.systemPath) if it exists)")
    var config: String?

    @Option(help: "Model card (default: $HARK_MODEL, else Models/hark-esc50-ensemble.json).")
    var model: String?

    @Option(help: "BLAS threads for the model. (default: 1)")
    var threads: Int?

    @Option(help: "Seconds between windows, 0.25 to 5. (default: 1.0)")
    var hop: Double?

    @Option(name: .customLong("top-k"), help: "Classes per window line. (default: 3)")
    var topK: Int?

    @Option(parsing: .upToNextOption, help: "What to print on stdout: events, windows, status (comma or space separated). (default: events)")
    var emit: [String] = []

    @Option(name: .customLong("on-threshold"), help: "Score at which a class counts towards an event. (default: 0.5)")
    var onThreshold: Float?

    @Option(name: .customLong("off-threshold"), help: "Score below which an active event starts to end (hysteresis). (default: 0.3)")
    var offThreshold: Float?

    @Option(name: .customLong("threshold"), help: "Per-class thresholds LABEL=ON[:OFF], repeatable, e.g. dog=0.7:0.4.")
    var classThresholds: [String] = []

    @Option(help: "N/M confirmation: start when N of the last M windows reach the on threshold. (default: 2/3)")
    var confirm: String?

    @Option(help: "Seconds below the off threshold before an event ends. (default: 2.0)")
    var hold: Double?

    @Option(name: .customLong("energy-gate"), help: "Skip windows quieter than this RMS level in dBFS. (default: -60)")
    var energyGate: Double?

    @Option(name: .customLong("update-interval"), help: "Seconds between update lines of an active event. (default: 5.0)")
    var updateInterval: Double?

    @Option(parsing: .upToNextOption, help: "Only these labels raise events (comma or space separated). (default: all)")
    var allow: [String] = []

    @Option(parsing: .upToNextOption, help: "These labels never raise events. (default: none)")
    var deny: [String] = []

    @Option(name: .customLong("max-pending"), help: "Windows queued for the model before new ones are dropped (counted). (default: 2)")
    var maxPending: Int?

    @Option(name: .customLong("simulate-slow-model"), help: .hidden)
    var simulatedModelDelay: Double = 0

    func run() throws {
        signal(SIGPIPE, SIG_IGN)  // a closed stdout is an error to handle, not a crash
        let fromFile = try loadConfig()
        let overrides = try flagOverrides().over(fromFile)
        var settings = try overrides.settings()
        settings.simulatedModelDelaySeconds = simulatedModelDelay
        let spec = try sourceSpec(configured: overrides.source)
        let playsDemo = demo || (source == nil && overrides.source == nil && SourceFactory.defaultSpec() == nil)
        // Files and stdin can wait for the model; devices cannot (they drop and count instead).
        switch spec {
        case .file, .standardInput: settings.backPressure = !(realtime || playsDemo)
        case .alsa, .pulse: settings.backPressure = false
        }
        settings.paceToRealTime = realtime || playsDemo

        let modelPath = try ModelLocator.locate(explicit: model ?? overrides.model)
        BLASThreads.set(overrides.threads ?? 1)
        settings.startupNote = BLASKernel.genericKernelAdvice   // on the status channel: stderr stays JSON lines
        let loaded = try ModelEnsemble.load(cardPath: modelPath)
        let sink = JSONLinesSink(statusOutput: overrides.emitsStatusOnStdout ? .standardOutput : .standardError)
        let factory = try SourceFactory(spec: spec, loops: loops, format: format,
                                        rate: rate, channels: channels)
        let pipeline = try LivePipeline(model: loaded, settings: settings, sink: sink, makeSource: factory.make)
        let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: number, queue: .global())
            s.setEventHandler { pipeline.stop() }
            s.resume()
            return s
        }
        pipeline.start()
        let outcome = pipeline.wait()
        signals.forEach { $0.cancel() }
        if case .failed(let why) = outcome {
            FileHandle.standardError.write(Data("hark listen: \(why)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func loadConfig() throws -> ListenOverrides {
        if let config { return try ConfigFile.load(path: config) }
        if FileManager.default.fileExists(atPath: ConfigFile.systemPath) { return try ConfigFile.load(path: ConfigFile.systemPath) }
        return ListenOverrides()
    }

    private func sourceSpec(configured: String?) throws -> SourceSpec {
        if demo {
            guard let path = DemoAudio.locate() else { throw CommandFailure(description: "the bundled demo recording was not found") }
            return .file(path: path)
        }
        if let text = source ?? configured { return try SourceSpec(parsing: text) }
        if let spec = SourceFactory.defaultSpec() { return spec }
        guard let path = DemoAudio.locate() else {
            throw CommandFailure(description: "no microphone found (no PulseAudio server, no ALSA capture device) and no demo recording; pass --source")
        }
        FileHandle.standardError.write(Data("hark listen: no microphone found; playing the bundled demo recording (\(path)) as a live stream\n".utf8))
        return .file(path: path)
    }

    private func flagOverrides() throws -> ListenOverrides {
        var o = ListenOverrides()
        o.model = model
        o.threads = threads
        o.hopSeconds = hop
        o.topK = topK
        o.emit = emit.isEmpty ? nil : Self.splitList(emit)
        o.onThreshold = onThreshold
        o.offThreshold = offThreshold
        for item in classThresholds {
            let parts = item.split(separator: "=", maxSplits: 1)
            let values = parts.count == 2 ? parts[1].split(separator: ":").compactMap { Float($0) } : []
            guard parts.count == 2, (1...2).contains(values.count) else {
                throw ValidationError("--threshold wants LABEL=ON or LABEL=ON:OFF, got '\(item)'")
            }
            o.classThresholds[String(parts[0])] = DetectorConfig.Thresholds(on: values[0], off: values.count > 1 ? values[1] : values[0] * 0.6)
        }
        if let confirm {
            let nm = confirm.split(separator: "/").compactMap { Int($0) }
            guard nm.count == 2 else { throw ValidationError("--confirm wants N/M, e.g. 2/3") }
            o.confirmWindows = nm[0]
            o.confirmOf = nm[1]
        }
        o.holdSeconds = hold
        o.energyGateDBFS = energyGate
        o.updateIntervalSeconds = updateInterval
        o.allow = allow.isEmpty ? nil : Self.splitList(allow)
        o.deny = deny.isEmpty ? nil : Self.splitList(deny)
        o.maxPendingWindows = maxPending
        return o
    }

    static func splitList(_ items: [String]) -> [String] {
        items.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }
}
