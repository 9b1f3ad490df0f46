import Foundation
import HarkConfig
import HarkStream
import Testing
import TestSupport

@Suite struct ConfigFileTests {
    @Test func theShippedConfigStatesTheBuiltInDefaults() throws {
        let o = try ConfigFile.load(path: TestPaths.root.appendingPathComponent("Config/hark.toml").path)
        let fromFile = try o.settings()
        let builtIn = LiveSettings()
        #expect(fromFile.hopSeconds == builtIn.hopSeconds)
        #expect(fromFile.topK == builtIn.topK)
        #expect(fromFile.emitWindows == builtIn.emitWindows)
        #expect(fromFile.maxPendingWindows == builtIn.maxPendingWindows)
        #expect(fromFile.detector == builtIn.detector)
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
            """)
        var flags = ListenOverrides()
        flags.hopSeconds = 0.25
        flags.classThresholds["siren"] = .init(on: 0.9, off: 0.7)
        let s = try flags.over(file).settings()
        #expect(s.hopSeconds == 0.25)                 // flag
        #expect(s.topK == 5 && s.emitWindows)         // file
        #expect(s.detector.thresholds.on == 0.6)      // file
        #expect(s.detector.thresholds.off == 0.3)     // default
        #expect(s.detector.holdSeconds == 3)
        #expect(s.detector.deny == ["rain"])
        #expect(s.detector.classThresholds == ["dog": .init(on: 0.8, off: 0.5), "siren": .init(on: 0.9, off: 0.7)])
    }

    @Test func typosAndWrongTypesAreErrors() {
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[listen]\nhop = 1.0\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[detectr]\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[detector]\nallow = \"dog\"\n") }
        #expect(throws: ConfigurationError.self) { try ConfigFile.parse("[detector]\nhold_seconds = \"long\"\n") }
        #expect(throws: (any Error).self) { try ConfigFile.parse("[listen\n") }
        #expect(throws: ConfigurationError.self) { try ListenOverrides().over(ConfigFile.parse("[listen]\nemit = [\"everything\"]\n")).settings() }
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: ConfigurationError.unreadable(path: "/nope/hark.toml", reason: "cannot read the configuration file")) {
            try ConfigFile.load(path: "/nope/hark.toml")
        }
    }
}
