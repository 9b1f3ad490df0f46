import ArgumentParser
import Foundation
import HarkClassifier
import HarkConfig
import HarkStream

/// The options of a live run, shared by `hark listen` and `hark serve`: the source, the model, the
/// windows and the detector. Defaults come from `LiveSettings`/`DetectorConfig` (Config/hark.toml
/// states them); the config file sits under the flags.
struct LiveArguments: ParsableArguments {
    static let defaults = LiveSettings()

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

    @Option(help: "Model card (default: \(ModelLocator.defaultSource)).")
    var model: String?

    @Option(help: "BLAS threads for the model. (default: 1)")
    var threads: Int?

    @Option(help: "Seconds between windows, 0.25 to 5. (default: the model card's, else \(defaults.hopSeconds))")
    var hop: Double?

    @Option(name: .customLong("crop-placement"), help: "Where a network that scores crops places them: window (the card's crops in every window, as hark classify) or stream (one crop per hop on a grid of stream time, shared by the windows that hold it: one new crop per window instead of the card's count). (default: the model card's, else \(defaults.cropPlacement.rawValue))")
    var cropPlacement: String?

    @Option(name: .customLong("top-k"), help: "Classes per window line. (default: \(defaults.topK))")
    var topK: Int?

    @Option(parsing: .upToNextOption, help: "What to print on stdout: events, windows, scores (window lines with every class's detection score), status (comma or space separated). (default: events)")
    var emit: [String] = []

    @Option(name: .customLong("detection-score"), help: "What the detector compares with its thresholds: window (the classification's mean over crops) or strongest_crop. (default: the model card's, else \(defaults.detector.score.rawValue))")
    var detectionScore: String?

    @Option(name: .customLong("on-threshold"), help: "Score at which a class counts towards an event; set, it replaces the model card's per-class thresholds. (default: the model card's calibrated thresholds, else \(defaults.detector.thresholds.on))")
    var onThreshold: Float?

    @Option(name: .customLong("off-threshold"), help: "Score below which an active event starts to end (hysteresis); set, it replaces the model card's per-class thresholds. (default: the model card's, else \(defaults.detector.thresholds.off))")
    var offThreshold: Float?

    @Option(name: .customLong("threshold"), help: "Per-class thresholds LABEL=ON[:OFF], repeatable, e.g. dog=0.7:0.4.")
    var classThresholds: [String] = []

    @Option(help: "N/M confirmation: start when N of the last M windows reach the on threshold. (default: the model card's, else \(defaults.detector.confirmWindows)/\(defaults.detector.confirmOf))")
    var confirm: String?

    @Option(help: "Seconds below the off threshold before an event ends. (default: the model card's, else \(defaults.detector.holdSeconds))")
    var hold: Double?

    @Option(name: .customLong("energy-gate"), help: "Skip windows quieter than this RMS level in dBFS. (default: \(Int(defaults.detector.energyGateDBFS)))")
    var energyGate: Double?

    @Option(name: .customLong("update-interval"), help: "Seconds between update lines of an active event. (default: \(defaults.detector.updateIntervalSeconds))")
    var updateInterval: Double?

    @Option(parsing: .upToNextOption, help: "Only these labels raise events (comma or space separated). (default: all)")
    var allow: [String] = []

    @Option(parsing: .upToNextOption, help: "These labels never raise events. (default: none)")
    var deny: [String] = []

    @Option(name: .customLong("max-pending"), help: "Windows queued for the model before new ones are dropped (counted). (default: \(defaults.maxPendingWindows))")
    var maxPending: Int?

    @Option(help: "Publish events to an MQTT broker: mqtt://host[:port] or mqtts://host[:port] ([mqtt] in the config has the rest). (default: off)")
    var mqtt: String?

    @Option(name: .customLong("mqtt-node"), help: "This node's name in the MQTT topics (hark/NODE/…). (default: the host name)")
    var mqttNode: String?

    @Flag(name: .customLong("mqtt-discovery"), help: "Announce a binary sensor per watched sound to Home Assistant (MQTT discovery).")
    var mqttDiscovery = false

    /// The options for `LiveRun.build`, with `server` as the flags' [server] layer.
    func liveOptions(server: ServerOverrides = ServerOverrides()) throws -> LiveOptions {
        var options = LiveOptions()
        options.configPath = config
        var mqttFlags = MQTTOverrides()
        mqttFlags["url"] = mqtt.map(ConfigValue.string)
        mqttFlags["node"] = mqttNode.map(ConfigValue.string)
        if mqttDiscovery { mqttFlags["discovery"] = .boolean(true) }
        options.flags = Overrides(listen: try listenOverrides(), server: server, mqtt: mqttFlags)
        options.demo = demo
        options.realtime = realtime
        options.loops = loops
        options.format = format
        options.rate = rate
        options.channels = channels
        return options
    }

    private func listenOverrides() throws -> ListenOverrides {
        var o = ListenOverrides()
        o.source = source
        o.model = model
        o.threads = threads
        o.hopSeconds = hop
        o.cropPlacement = cropPlacement
        o.topK = topK
        o.emit = emit.isEmpty ? nil : Self.splitList(emit)
        o.detectionScore = detectionScore
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

/// Says what the operator should know before a run (no microphone: the demo plays) on stderr.
func announce(_ run: LiveRun, command: String) {
    for notice in run.notices { FileHandle.standardError.write(Data("hark \(command): \(notice)\n".utf8)) }
}

/// JSON lines on stdout (windows with `--emit windows`; status on stderr unless `--emit status`).
func stdoutLines(for run: LiveRun) -> JSONLinesOutput {
    JSONLinesOutput(windows: run.overrides.listen.emitsWindowsOnStdout, scores: run.overrides.listen.emitsScoresOnStdout,
                    statusOutput: run.overrides.listen.emitsStatusOnStdout ? .standardOutput : .standardError)
}
