import Foundation
import Testing
import TestSupport

extension ServeSuites {
    /// What an operator watches: `/metrics` (checked by prometheus_client's parser) and `/health`
    /// through a capture that dies and comes back.
    @Suite(.serialized) struct OperationsTests {
        let model = TestPaths.shippedModelCard

        /// Every sample of a Prometheus text page, as prometheus_client parses it: "name{labels}" → value.
        func parsePrometheus(_ text: String) async throws -> [String: Double] {
            let script = """
                import json, sys
                from prometheus_client.parser import text_string_to_metric_families
                out = {}
                for family in text_string_to_metric_families(sys.stdin.read()):
                    for s in family.samples:
                        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                        out[s.name + ("{" + labels + "}" if labels else "")] = s.value
                print(json.dumps(out))
                """
            let run = try await PythonScript.run(["-c", script], input: Data(text.utf8))
            #expect(run.status == 0, "prometheus_client could not parse /metrics: \(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Double])
        }

        @Test func metricsParseAndFollowTheRunSummary() async throws {
            let serve = try await ServeProcess.start(["--model", model, "--demo", "--hop", "0.5", "--hold", "0.5"])
            defer { serve.process.process.terminate() }
            let client = SocketClient(serve.webSocketURL("/v1/live?kinds=event,window"))
            defer { client.cancel() }
            _ = try await client.waitFor(timeout: 20) { $0.type == "window" }
            _ = try await HTTPExchange.send(serve.url("/v1/classify"), method: "POST", body: Data("not audio".utf8),
                                            headers: ["Content-Type": "audio/wav"])
            _ = try await serve.process.waitForLine(timeout: 30) { $0.contains("\"phase\":\"start\"") }
            func summary() async throws -> [String: Any] {
                try #require(try await HTTPExchange.send(serve.url("/v1/status")).json?["summary"] as? [String: Any])
            }
            let before = try await summary()
            let page = try await HTTPExchange.send(serve.url("/metrics"))
            let after = try await summary()
            #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let samples = try await parsePrometheus(page.text)
            // Counters that follow the summary sit between two summaries taken around the scrape.
            for (metric, key) in [("hark_windows_classified_total", "windows_classified"), ("hark_windows_dropped_total", "windows_dropped"),
                                  ("hark_windows_gated_total", "windows_gated"), ("hark_events_total", "events"),
                                  ("hark_capture_losses_total", "capture_losses"), ("hark_capture_overruns_total", "overruns")] {
                let value = try #require(samples[metric], "\(metric) missing")
                let low = Double(before[key] as? Int ?? -1), high = Double(after[key] as? Int ?? -1)
                #expect(value >= low && value <= high, "\(metric) = \(value), summary \(low)…\(high)")
            }
            #expect((samples["hark_windows_classified_total"] ?? 0) > 0)
            let started = samples.filter { $0.key.hasPrefix("hark_events_started_total{label=") }.values.reduce(0, +)
            #expect(started >= 1 && started <= Double(after["events"] as? Int ?? 0))
            #expect(samples["hark_live_clients"] == 1)
            #expect(samples["hark_uploads_total{outcome=\"unsupported\"}"] == 1)
            #expect(samples["hark_uploads_total{outcome=\"ok\"}"] == 0)
            #expect((samples["hark_window_latency_seconds_count"] ?? 0) > 0)
            #expect((samples["hark_history_write_seconds_count"] ?? 0) >= 1)
            #expect(samples["hark_live_dropped_telemetry_total"] == 0)
        }

        /// `/health` turns 503 (naming `audio`) when the PulseAudio daemon dies and 200 when capture is back.
        @Test func healthFollowsTheCapture() async throws {
            let pulse = try await PulseAudioDaemon.started()
            defer { pulse.stop() }
            let config = try TestPaths.temporaryDirectory().appendingPathComponent("hark.toml")
            try "[server]\nhealth_audio_seconds = 2\n".write(to: config, atomically: true, encoding: .utf8)
            let serve = try await ServeProcess.start(["--model", model, "--source", "pulse:\(pulse.monitorName)", "--config", config.path],
                                                     environment: pulse.clientEnvironment)
            defer { serve.process.process.terminate() }
            #expect(try await serve.waitForHealth(200, timeout: 20) != nil)
            #expect(try await serve.health().failing.isEmpty)
            pulse.kill()
            #expect(try await serve.waitForHealth(503, timeout: 15) != nil)
            #expect(try await serve.health().failing == ["audio"])
            try pulse.start()
            #expect(try await serve.waitForHealth(200, timeout: 30) != nil)
            let metrics = try await parsePrometheus(try await HTTPExchange.send(serve.url("/metrics")).text)
            #expect((metrics["hark_capture_losses_total"] ?? 0) >= 1 && (metrics["hark_capture_recoveries_total"] ?? 0) >= 1)
        }
    
        /// A port already taken ends `hark serve` at once with the reason (it once kept capturing
        /// with no server, for ever: the pipeline ignored the group's cancellation).
        @Test func aTakenPortEndsTheServiceWithTheReason() async throws {
            let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(holder) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) == 0 && listen(holder, 1) == 0 && getsockname(holder, $0, &length) == 0 }
            }
            try #require(bound)
            let port = Int(UInt16(bigEndian: address.sin_port))
            let started = Date()
            let run = try await HarkProcess.run(["serve", "--model", model, "--demo", "--port", "\(port)",
                                                 "--state-dir", try TestPaths.temporaryDirectory("hark-port").path])
            #expect(run.status != 0)
            #expect(run.stderr.contains("cannot listen on 127.0.0.1:\(port)") && run.stderr.contains("in use"), "\(run.stderr.suffix(1000))")
            #expect(Date().timeIntervalSince(started) < 30)
        }
}
}
