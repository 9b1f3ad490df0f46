import Foundation
import Testing
import TestSupport

extension ServeSuites {
    /// The dashboard in a real browser (Debian's chromium through chromedriver, Selenium) against a
    /// live `hark serve` fed by a PulseAudio null sink. The checks live in Tests/Browser/dashboard_check.py;
    /// its screenshots go to a temporary folder, or to `$HARK_SCREENSHOTS` (docs/ keeps the last set).
    @Suite(.serialized) struct DashboardTests {
        let script = TestPaths.root.appendingPathComponent("Tests/Browser/dashboard_check.py").path

        func screenshots() throws -> String {
            try ProcessInfo.processInfo.environment["HARK_SCREENSHOTS"] ?? TestPaths.temporaryDirectory("hark-shots").path
        }

        func runCheck(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
            let run = try await PythonScript.run([script] + arguments, environment: environment)
            return (run.status, run.stdout + run.stderr)
        }

        @Test func liveNetworkAnalyseAndHistoryInChromium() async throws {
            let clip = try #require(try await offThread { ConfidentClips.shippedModel.first })
            let fixture = try ParityFixture.load(ParityFixture.shippedModelName)
            let upload = try #require(fixture.clips.first { $0.verdict == $0.target })
            let pulse = try await PulseAudioDaemon.started()
            defer { pulse.stop() }
            // A window every 0.25 s: the rate the page must keep up with, every main layer on screen.
            let serve = try await ServeProcess.start(["--model", TestPaths.shippedModelCard, "--source", "pulse:\(pulse.monitorName)",
                                                      "--hop", "0.25"], environment: pulse.clientEnvironment)
            defer { serve.process.process.terminate() }
            let result = try await runCheck(["live", "--url", "http://127.0.0.1:\(serve.port)/", "--sink", pulse.sinkName,
                                             "--clip", clip.path, "--label", clip.label,
                                             "--upload", TestPaths.esc50Clip(upload.file), "--upload-label", upload.label,
                                             "--screenshots", try screenshots()], environment: pulse.clientEnvironment)
            #expect(result.status == 0, "\(result.output.suffix(3000))")
            print("dashboard:", result.output.split(separator: "\n").last.map(String.init) ?? "")
        }

        @Test func thePageAsksForTheTokenAndWorksAfter() async throws {
            let token = try await HarkProcess.run(["token", "new"])
            let secret = try #require(token.lines.first { $0.hasPrefix("token: ") }).dropFirst("token: ".count)
            let line = try #require(token.lines.first { $0.hasPrefix("tokens = ") })
            let config = try TestPaths.temporaryDirectory().appendingPathComponent("hark.toml")
            try "[server]\n\(line)\n".write(to: config, atomically: true, encoding: .utf8)
            let serve = try await ServeProcess.start(["--model", TestPaths.shippedModelCard, "--demo", "--config", config.path])
            defer { serve.process.process.terminate() }
            // The page itself is open; what it loads is not, without the token.
            #expect(try await HTTPExchange.send(serve.url("/")).status == 200)
            #expect(try await HTTPExchange.send(serve.url("/v1/model")).status == 401)
            let result = try await runCheck(["token", "--url", "http://127.0.0.1:\(serve.port)/", "--token", String(secret),
                                             "--screenshots", try screenshots()])
            #expect(result.status == 0, "\(result.output.suffix(3000))")
        }
    }
}
