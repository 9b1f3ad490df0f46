import Foundation
import HarkConfig
import HarkEngine
import HarkStream
import Testing
import TestSupport

@Suite struct ConfigFileTests {
    @Test func theShippedConfigStatesTheBuiltInDefaults() throws {
        let o = try ConfigFile.load(path: TestPaths.root.appendingPathComponent("Config/hark.toml").path)
        let fromFile = try o.listen.settings()
        let builtIn = LiveSettings()
        // What a model card's `detection` section fits is left to the card: the file must not mask it.
        #expect(o.listen.hopSeconds == nil && o.listen.cropPlacement == nil && o.listen.detectionScore == nil && o.listen.onThreshold == nil
                && o.listen.offThreshold == nil && o.listen.confirmWindows == nil && o.listen.confirmOf == nil
                && o.listen.holdSeconds == nil && o.listen.classThresholds.isEmpty)
        #expect(fromFile.hopSeconds == builtIn.hopSeconds && fromFile.cropPlacement == .window)
        #expect(fromFile.topK == builtIn.topK)
        #expect(!o.listen.emitsWindowsOnStdout && !o.listen.emitsStatusOnStdout)
        #expect(fromFile.maxPendingWindows == builtIn.maxPendingWindows)
        #expect(fromFile.detector == builtIn.detector)
        #expect(try o.server.settings() == ServerSettings())
        // The file states every [server] key but the two whose default is "none" (each with its
        // built-in value, checked just above).
        let stated = Set(o.server.values.keys)
        #expect(stated == Set(ServerSettings.fields.map(\.key)).subtracting(["maps_member", "state_dir"]))
        // [mqtt] too, but for the keys with no default (MQTT stays off: no url).
        #expect(try o.mqtt.settings() == MQTTSettings() && !MQTTSettings().enabled)
        #expect(Set(o.mqtt.values.keys) == Set(MQTTSettings.fields.map(\.key)).subtracting(
            ["url", "node", "client_id", "username", "password", "ca_file", "cert_file", "key_file"]))
    }

    @Test func flagsOverrideTheFileWhichOverridesDefaults() throws {
        let file = try ConfigFile.parse("""
            [listen]
            hop_seconds = 0.5
            top_k = 5
            emit = ["events", "windows"]
            [detector]
            on_threshold = 0.6
            hold_seconds = 3
            deny = ["rain"]
            [detector.thresholds]
            dog = { on = 0.8, off = 0.5 }
            [server]
            port = 9000
            max_upload_mb = 5
            allowed_origins = ["http://dash.example"]
            """)
        var flags = Overrides()
        flags.listen.hopSeconds = 0.25
        flags.listen.classThresholds["siren"] = .init(on: 0.9, off: 0.7)
        flags.server["port"] = .integer(9100)
        let merged = flags.over(file)
        let s = try merged.listen.settings()
        #expect(s.hopSeconds == 0.25)                 // flag
        #expect(s.topK == 5 && merged.listen.emitsWindowsOnStdout)   // file
        #expect(s.detector.thresholds.on == 0.6)      // file
        #expect(s.detector.thresholds.off == 0.3)     // default
        #expect(s.detector.holdSeconds == 3)
        #expect(s.detector.deny == ["rain"])
        #expect(s.detector.classThresholds == ["dog": .init(on: 0.8, off: 0.5), "siren": .init(on: 0.9, off: 0.7)])
        let serve = try merged.server.settings()
        #expect(serve.port == 9100)                            // flag
        #expect(serve.maxUploadBytes == 5 * 1024 * 1024)       // file
        #expect(serve.allowedOrigins == ["http://dash.example"])
        #expect(serve.bind == "127.0.0.1")                     // default: loopback
    }

    @Test func typosAndWrongTypesAreErrors() {
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[listen]\nhop = 1.0\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[detectr]\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[detector]\nallow = \"dog\"\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[detector]\nhold_seconds = \"long\"\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[server]\nport = \"eighty\"\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[server]\nprt = 80\n") }
        #expect(throws: ConfigurationError.invalid("port must be 0 to 65535, got 70000")) { try ConfigFile.parse("[server]\nport = 70000\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[server]\ntokens = [\"plain-text-token\"]\n") }
        #expect(throws: (any Error).self) { try ConfigFile.parse("[listen\n") }
        #expect(throws: ConfigurationError.self) { try ListenOverrides().over(ConfigFile.parse("[listen]\nemit = [\"everything\"]\n").listen).settings() }
    }

    @Test func environmentVariablesSitBetweenTheFileAndTheFlags() throws {
        let file = try ConfigFile.parse("[listen]\nhop_seconds = 0.5\n[server]\nport = 9000\nmax_upload_mb = 5\n")
        let environment = try ConfigFile.environment([
            "HARK_SERVER_PORT": "9200", "HARK_SERVER_ALLOWED_ORIGINS": "http://a.example, http://b.example",
            "HARK_LISTEN_HOP_SECONDS": "2", "HARK_DETECTOR_DENY": "rain,wind", "HARK_SERVER_EVENT_AUDIO": "false",
            "HARK_MODEL": "ignored: not a setting", "PATH": "/usr/bin",
        ])
        var flags = Overrides()
        flags.listen.hopSeconds = 0.25
        let merged = flags.over(environment.over(file))
        let server = try merged.server.settings()
        #expect(server.port == 9200)                     // environment over file
        #expect(server.maxUploadBytes == 5 * 1024 * 1024) // file
        #expect(server.allowedOrigins == ["http://a.example", "http://b.example"])
        #expect(!server.eventAudio)
        #expect(try merged.listen.settings().hopSeconds == 0.25)   // flag over environment
        #expect(try environment.listen.settings().hopSeconds == 2)
        #expect(try merged.listen.settings().detector.deny == ["rain", "wind"])
        #expect(throws: ConfigurationError.self) { try ConfigFile.environment(["HARK_SERVER_PORTT": "1"]) }
        #expect(throws: ConfigurationError.invalid("HARK_SERVER_PORT must be a whole number, got 'eighty'")) {
            try ConfigFile.environment(["HARK_SERVER_PORT": "eighty"])
        }
        #expect(throws: ConfigurationError.invalid("retention_days must be 1e-05 to 36500.0, got -1.0")) {
            try ConfigFile.environment(["HARK_SERVER_RETENTION_DAYS": "-1"])
        }
    }

    @Test func mqttSettingsAreCheckedByKey() throws {
        let o = try ConfigFile.parse("[mqtt]\nurl = \"mqtts://broker.example:8884\"\nnode = \"garden_1\"\nqos = 0\n")
        let s = try o.mqtt.settings()
        #expect(s.broker?.host == "broker.example" && s.broker?.port == 8884 && s.broker?.tls == true)
        #expect(s.resolvedNode == "garden_1" && s.qos == 0)
        #expect(try ConfigFile.parse("[mqtt]\nurl = \"mqtt://b\"\n").mqtt.settings().broker?.port == 1883)
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[mqtt]\nurl = \"http://b\"\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[mqtt]\nnode = \"a/b\"\n") }
        #expect(throws: ConfigurationError.invalid("qos must be 0 to 2, got 3")) { try ConfigFile.parse("[mqtt]\nqos = 3\n") }
        #expect(try ConfigFile.environment(["HARK_MQTT_URL": "mqtt://10.0.0.2"]).mqtt.settings().enabled)
    }

    @Test func aCardsFittedDetectionSitsUnderEveryOtherLayer() throws {
        let card = DetectionCalibration(score: "strongest_crop", hopSeconds: 0.5, cropPlacement: "stream",
                                        defaultThresholds: .init(on: 0.45, off: 0.27),
                                        thresholds: ["dog": .init(on: 0.7, off: 0.42), "rain": .init(on: 0.3, off: 0.18)],
                                        confirmWindows: 1, confirmOf: 1, holdSeconds: 1.5)
        // Nothing set above the card: the card's values.
        let plain = try ListenOverrides().over(calibration: card).settings()
        #expect(plain.hopSeconds == 0.5 && plain.cropPlacement == .stream && plain.detector.score == .strongestCrop)
        #expect(plain.detector.thresholds == .init(on: 0.45, off: 0.27))
        #expect(plain.detector.thresholds(for: "dog") == .init(on: 0.7, off: 0.42))
        #expect(plain.detector.thresholds(for: "siren") == .init(on: 0.45, off: 0.27))
        #expect(plain.detector.confirmWindows == 1 && plain.detector.confirmOf == 1 && plain.detector.holdSeconds == 1.5)
        // A per-class flag replaces that class only; other settings above the card win key by key.
        var flags = ListenOverrides()
        flags.classThresholds["dog"] = .init(on: 0.9, off: 0.5)
        flags.hopSeconds = 1
        flags.detectionScore = "window"
        flags.cropPlacement = "window"
        let mixed = try flags.over(calibration: card).settings()
        #expect(mixed.detector.thresholds(for: "dog") == .init(on: 0.9, off: 0.5))
        #expect(mixed.detector.thresholds(for: "rain") == .init(on: 0.3, off: 0.18))
        #expect(mixed.hopSeconds == 1 && mixed.cropPlacement == .window && mixed.detector.score == .window && mixed.detector.confirmOf == 1)
        // The environment and the file name it too.
        #expect(try ConfigFile.environment(["HARK_LISTEN_CROP_PLACEMENT": "stream"]).listen.settings().cropPlacement == .stream)
        #expect(try ConfigFile.parse("[listen]\ncrop_placement = \"stream\"\n").listen.cropPlacement == "stream")
        // One global threshold asked for is one threshold for every class: the card's per-class ones go.
        var global = ListenOverrides()
        global.onThreshold = 0.6
        let one = try global.over(calibration: card).settings()
        #expect(one.detector.classThresholds.isEmpty)
        #expect(one.detector.thresholds(for: "dog") == .init(on: 0.6, off: 0.27))
        // No card section: the built-in defaults.
        #expect(try ListenOverrides().over(calibration: nil).settings().detector == DetectorConfig())
        // A rule that does not exist is refused by name.
        var bad = ListenOverrides()
        bad.detectionScore = "loudest"
        #expect(throws: ConfigurationError.self) { try bad.settings() }
        var badPlacement = ListenOverrides()
        badPlacement.cropPlacement = "grid"
        #expect(throws: ConfigurationError.invalid("crop_placement: 'grid' is not one of window, stream")) { try badPlacement.settings() }
    }

    /// Calibrated per-class thresholds from a card decide on hand-made scores: each class against its own.
    @Test func theCardsPerClassThresholdsDecideEachClass() throws {
        let card = DetectionCalibration(defaultThresholds: .init(on: 0.5, off: 0.3),
                                        thresholds: ["dog": .init(on: 0.7, off: 0.42), "rain": .init(on: 0.3, off: 0.18)],
                                        confirmWindows: 1, confirmOf: 1, holdSeconds: 0)
        let config = try ListenOverrides().over(calibration: card).settings().detector
        var detector = EventDetector(config: config, labels: ["dog", "rain", "siren"], idPrefix: "c")
        // dog 0.6 is under its 0.7; rain 0.35 is over its 0.3; siren 0.55 is over the default 0.5.
        var events = detector.update(windowStart: 0, windowEnd: 5, probabilities: [0.6, 0.35, 0.55])
        #expect(events.map(\.label) == ["rain", "siren"])
        // rain 0.2 holds (off 0.18); siren 0.2 ends (off 0.3): each class by its own off threshold.
        events = detector.update(windowStart: 1, windowEnd: 6, probabilities: [0.6, 0.2, 0.2])
        #expect(events.map(\.label) == ["siren"] && events.map(\.phase) == [.end])
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: ConfigurationError.unreadable(path: "/nope/hark.toml", reason: "cannot read the configuration file")) {
            try ConfigFile.load(path: "/nope/hark.toml")
        }
    }
}
