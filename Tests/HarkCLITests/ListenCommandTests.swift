import Foundation
import HarkEngine
import Testing
import TestSupport

/// `hark listen` end to end through files and stdin; the output is checked against the frozen
/// schema in docs/listen-output.schema.json.
@Suite struct ListenCommandTests {
    let model = TestPaths.shippedModelCard
    let schema = try? JSONSchemaValidator(schemaAt: TestPaths.root.appendingPathComponent("docs/listen-output.schema.json"))

    func noiseWAV(seconds: Double, rate: Int = 16000) throws -> String {
        var g = SystemRandomNumberGenerator()
        let samples = (0..<Int(seconds * Double(rate))).map { _ in Float.random(in: -0.3...0.3, using: &g) }
        return try WAVWriter.write(samples, rate: rate, to: try TestPaths.temporaryDirectory().appendingPathComponent("n.wav")).path
    }

    func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func everyLineMatchesTheFrozenSchema() async throws {
        let validator = try #require(schema)
        let path = try noiseWAV(seconds: 9)
        let r = try await HarkProcess.run(["listen", "--model", model, "--source", "file:\(path)", "--emit", "events,scores,status",
                                     "--on-threshold", "0.0001", "--off-threshold", "0.0001", "--confirm", "1/1", "--update-interval", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        let kinds = Set(try objects(r.stdout).compactMap { $0["type"] as? String })
        #expect(kinds == ["event", "window", "status"])
        let phases = Set(try objects(r.stdout).compactMap { $0["phase"] as? String })
        #expect(phases == ["start", "update", "end"])
        for line in r.lines {
            let problems = validator.problems(in: line)
            #expect(problems.isEmpty, "\(line): \(problems)")
        }
        // `scores` adds every class's detection score to the window lines.
        for window in try objects(r.stdout).filter({ $0["type"] as? String == "window" }) {
            #expect((window["detection_scores"] as? [Double])?.count == 50)
        }
        // The validator itself rejects what the schema forbids.
        #expect(!validator.problems(in: #"{"type":"event","phase":"begin"}"#).isEmpty)
        #expect(!validator.problems(in: #"{"type":"status","status":"stopped","wall_time":"x","message":"m","extra":1}"#).isEmpty)
    }

    /// `--crop-placement stream` reaches the classifier: the same windows, scored on other crops.
    @Test func cropsPlacedOnTheStreamScoreTheSameWindowsDifferently() async throws {
        let path = try noiseWAV(seconds: 9)
        func windows(_ placement: String) async throws -> [[Double]] {
            let r = try await HarkProcess.run(["listen", "--model", model, "--source", "file:\(path)", "--hop", "0.5",
                                               "--crop-placement", placement, "--emit", "scores"])
            #expect(r.status == 0, "\(r.stderr)")
            return try objects(r.stdout).compactMap { $0["detection_scores"] as? [Double] }
        }
        let stream = try await windows("stream"), window = try await windows("window")
        #expect(stream.count == window.count && stream.count >= 8)
        #expect(stream != window)
        let refused = try await HarkProcess.run(["listen", "--model", model, "--source", "file:\(path)", "--crop-placement", "grid"])
        #expect(refused.status != 0 && refused.stderr.contains("crop_placement: 'grid' is not one of window, stream"), "\(refused.stderr)")
    }

    @Test func statusGoesToStderrByDefault() async throws {
        let path = try noiseWAV(seconds: 6)
        let r = try await HarkProcess.run(["listen", "--model", model, "--source", "file:\(path)", "--emit", "windows"])
        #expect(r.status == 0)
        let out = try objects(r.stdout)
        #expect(out.contains { $0["type"] as? String == "window" })
        #expect(!out.contains { $0["type"] as? String == "status" })
        let status = try objects(r.stderr).compactMap { $0["status"] as? String }
        #expect(status.first == "capture_started" && status.last == "stopped")
    }

    /// The slow-kernel advice rides on the capture_started status, so stderr stays JSON lines.
    @Test func theGenericBLASKernelIsReportedInTheStartStatus() async throws {
        let path = try noiseWAV(seconds: 6)
        let arguments = ["listen", "--model", model, "--source", "file:\(path)", "--emit", "windows"]
        let generic = try await HarkProcess.run(arguments, environment: ["OPENBLAS_CORETYPE": "Prescott"])
        let chosen = try await HarkProcess.run(arguments, environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(generic.status == 0 && chosen.status == 0)
        let started = { (r: HarkProcess.Result) throws -> String? in
            try self.objects(r.stderr).first { $0["status"] as? String == "capture_started" }?["message"] as? String
        }
        let genericMessage = try #require(try started(generic))
        if let best = BLASKernel.bestForThisCPU {
            #expect(genericMessage.hasPrefix("capture started; ") && genericMessage.contains("OPENBLAS_CORETYPE=\(best)"), "\(genericMessage)")
        } else {
            #expect(genericMessage == "capture started")
        }
        #expect(try started(chosen) == "capture started")
    }

    @Test func rawPCMOnStdin() async throws {
        let rate = 8000
        var bytes = Data()
        for i in 0..<(rate * 7) {
            let v = Int16(8000 * sin(Double(i) * 0.2))
            withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        }
        // The hop is set: the card's fitted one (0.5 s for K) is not what this test is about.
        let r = try await HarkProcess.run(["listen", "--model", model, "--source", "-", "--format", "s16le", "--rate", "\(rate)",
                                     "--hop", "1", "--emit", "windows"], stdin: bytes)
        #expect(r.status == 0, "\(r.stderr)")
        let ends = try objects(r.stdout).filter { $0["type"] as? String == "window" }.compactMap { $0["end"] as? Double }
        #expect(ends == [5, 6, 7])
    }

    @Test func sigtermEndsOpenEventsAndExitsZeroWithinASecond() async throws {
        let path = try noiseWAV(seconds: 60)
        let p = HarkProcess.start(["listen", "--model", model, "--source", "file:\(path)", "--realtime",
                                   "--on-threshold", "0.0001", "--off-threshold", "0.0001", "--confirm", "1/1"])
        try p.process.run()
        #expect(try await p.waitForOutput(containing: "\"phase\":\"start\"", timeout: 30))
        let exitSeconds = try await offThread { () -> Double in
            let sent = Date()
            p.process.terminate()
            p.process.waitUntilExit()
            return Date().timeIntervalSince(sent)
        }
        let r = try await p.finish()
        #expect(exitSeconds < 1.0)
        #expect(r.status == 0)
        let events = try objects(r.stdout)
        let started = Set(events.filter { $0["phase"] as? String == "start" }.compactMap { $0["id"] as? String })
        let ended = Set(events.filter { $0["phase"] as? String == "end" }.compactMap { $0["id"] as? String })
        #expect(!started.isEmpty && started == ended)
    }

    @Test func helpShowsEveryDefault() async throws {
        let r = try await HarkProcess.run(["listen", "--help"])
        let text = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        // What a model card may fit says so, then the built-in value.
        for expected in ["the model card's, else 1.0)", "(default: 3)", "(default: events)", "else 0.5)", "else 0.3)",
                         "else 2/3)", "else 2.0)", "else window)", "(default: -60)", "(default: 5.0)", "(default: 2)"] {
            #expect(text.contains(expected), "help lacks \(expected)")
        }
    }

    @Test func serveHelpShowsEveryDefault() async throws {
        let r = try await HarkProcess.run(["serve", "--help"])
        let text = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for expected in ["(default: 127.0.0.1)", "(default: 7460)", "(default: 20)", "(default: 600)", "else 1.0)",
                         "else 0.5)", "else 2/3)", "/v1/live", "/v1/classify"] {
            #expect(text.contains(expected), "serve help lacks \(expected)")
        }
    }

    @Test func badSettingsAreRejectedClearly() async throws {
        let path = try noiseWAV(seconds: 1)
        let r1 = try await HarkProcess.run(["listen", "--model", model, "--source", "file:\(path)", "--hop", "0.1"])
        #expect(r1.status != 0 && r1.stderr.contains("hop"))
        let r2 = try await HarkProcess.run(["listen", "--model", model, "--source", "file:\(path)", "--allow", "unicorn"])
        #expect(r2.status != 0 && r2.stderr.contains("unicorn"))
        let r3 = try await HarkProcess.run(["listen", "--model", model, "--source", "-"])
        #expect(r3.status != 0 && r3.stderr.contains("--format"))
    }
}
