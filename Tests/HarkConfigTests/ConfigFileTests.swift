import Foundation
import HarkConfig
import HarkStream
import Testing
import TestSupport

@Suite struct ConfigFileTests {
    @Test func theShippedConfigStatesTheBuiltInDefaults() throws {
        let o = try ConfigFile.load(path: TestPaths.root.appendingPathComponent("Config/hark.toml").path)
        let fromFile = try o.listen.settings()
        let builtIn = LiveSettings()
        #expect(fromFile.hopSeconds == builtIn.hopSeconds)
        #expect(fromFile.topK == builtIn.topK)
        #expect(!o.listen.emitsWindowsOnStdout && !o.listen.emitsStatusOnStdout)
        #expect(fromFile.maxPendingWindows == builtIn.maxPendingWindows)
        #expect(fromFile.detector == builtIn.detector)
        #expect(try o.serve.settings() == ServeSettings())
        // The file states the [serve] section (each key its built-in value, checked just above).
        #expect(o.serve.port == ServeSettings().port && o.serve.bind == ServeSettings().bind)
        #expect(o.serve.clientTelemetryBuffer == ServeSettings().clientTelemetryBuffer)
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
            [serve]
            port = 9000
            max_upload_mb = 5
            allowed_origins = ["http://dash.example"]
            """)
        var flags = Overrides()
        flags.listen.hopSeconds = 0.25
        flags.listen.classThresholds["siren"] = .init(on: 0.9, off: 0.7)
        flags.serve.port = 9100
        let merged = flags.over(file)
        let s = try merged.listen.settings()
        #expect(s.hopSeconds == 0.25)                 // flag
        #expect(s.topK == 5 && merged.listen.emitsWindowsOnStdout)   // file
        #expect(s.detector.thresholds.on == 0.6)      // file
        #expect(s.detector.thresholds.off == 0.3)     // default
        #expect(s.detector.holdSeconds == 3)
        #expect(s.detector.deny == ["rain"])
        #expect(s.detector.classThresholds == ["dog": .init(on: 0.8, off: 0.5), "siren": .init(on: 0.9, off: 0.7)])
        let serve = try merged.serve.settings()
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
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[serve]\nport = \"eighty\"\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[serve]\nprt = 80\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[serve]\nport = 70000\n").serve.settings() }
        #expect(throws: (any Error).self) { try ConfigFile.parse("[listen\n") }
        #expect(throws: ConfigurationError.self) { try ListenOverrides().over(ConfigFile.parse("[listen]\nemit = [\"everything\"]\n").listen).settings() }
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: ConfigurationError.unreadable(path: "/nope/hark.toml", reason: "cannot read the configuration file")) {
            try ConfigFile.load(path: "/nope/hark.toml")
        }
    }
}
