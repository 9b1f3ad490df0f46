// Faults `hark serve` must survive: the sound server dying and coming back, kill -9 while it
// writes, a full disk under its state directory. Each repeats HARK_FAULT_REPEATS times (3 by
// default; scripts/reliability.sh runs 10 and 20) and prints what it measured on one line.
import Foundation
import Testing
import TestSupport

extension ServeSuites {
    @Suite(.serialized) struct FaultTests {
        let model = TestPaths.shippedModelCard

        static func repeats(full: Int) -> Int {
            ProcessInfo.processInfo.environment["HARK_FAULT_REPEATS"].flatMap(Int.init).map { min($0, full) } ?? 3
        }

        func status(_ serve: ServeProcess) async throws -> [String: Any] {
            try #require(try await HTTPExchange.send(serve.url("/v1/status")).json)
        }

        /// The PulseAudio daemon SIGKILLed and started again, over and over: each time /health names
        /// `audio` while it is gone and turns 200 once audio flows again; then the stream still classifies.
        @Test func captureComesBackAfterEveryPulseAudioRestart() async throws {
            let pulse = try await PulseAudioDaemon.started()
            defer { pulse.stop() }
            let config = try TestPaths.temporaryDirectory().appendingPathComponent("hark.toml")
            try "[server]\nhealth_audio_seconds = 1\n".write(to: config, atomically: true, encoding: .utf8)
            let serve = try await ServeProcess.start(["--model", model, "--source", "pulse:\(pulse.monitorName)", "--config", config.path],
                                                     environment: pulse.clientEnvironment)
            defer { serve.process.process.terminate() }
            #expect(try await serve.waitForHealth(200, timeout: 30) != nil)
            let count = Self.repeats(full: 10)
            var recoveries: [Double] = []
            for round in 0..<count {
                pulse.kill()
                let down = try await serve.waitForHealth(503, timeout: 15)
                #expect(down != nil, "round \(round): /health stayed 200 with the sound server dead")
                #expect(try await serve.health().failing == ["audio"])
                try pulse.start()
                let back = try await serve.waitForHealth(200, timeout: 60)
                #expect(back != nil, "round \(round): capture did not come back within 60 s")
                recoveries.append(back ?? .infinity)
            }
            let summary = try #require(try await status(serve)["summary"] as? [String: Any])
            #expect(summary["capture_losses"] as? Int == count, "\(summary)")
            #expect(summary["windows_dropped"] as? Int == 0, "\(summary)")
            // Audio still flows after the last restart (the sink is silent: windows are gated, not classified).
            let before = summary["stream_seconds"] as? Double ?? 0
            try await pause(3)
            let after = try #require(try await status(serve)["summary"] as? [String: Any])["stream_seconds"] as? Double ?? 0
            #expect(after > before + 2)
            let sorted = recoveries.sorted()
            print("fault pulseaudio-restart: \(count) restarts, recovered \(recoveries.filter(\.isFinite).count); seconds from restart "
                  + "to audio: median \(String(format: "%.2f", sorted[sorted.count / 2])), max \(String(format: "%.2f", sorted.last ?? 0)); "
                  + "all \(recoveries.map { String(format: "%.2f", $0) })")
        }

        /// `kill -9` while events are being written, over and over on one state directory: each start
        /// opens the database cleanly, every event whose `end` line was printed before a kill is in the
        /// history, and the upload folder a killed process left (with a partial upload in it) is
        /// removed by the next start.
        @Test func everyPrintedEventSurvivesRepeatedKills() async throws {
            let state = try TestPaths.temporaryDirectory("hark-kill")
            let temporary = try TestPaths.temporaryDirectory("hark-kill-tmp")
            func uploadFolders() throws -> [String] {
                try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter { $0.hasPrefix("hark-uploads-") }.sorted()
            }
            let arguments = ["--model", model, "--demo", "--hop", "0.5", "--hold", "0.5"]
            var printed: [String] = []
            let count = Self.repeats(full: 20)
            for round in 0...count {
                let serve = try await ServeProcess.start(arguments, environment: ["TMPDIR": temporary.path], stateDirectory: state)
                let folders = try uploadFolders()
                let own = try #require(folders.first, "round \(round): no upload folder")
                #expect(folders.count == 1 && own.hasPrefix("hark-uploads-\(serve.process.process.processIdentifier)-"),
                        "round \(round): \(folders)")
                if round > 0 {
                    #expect(serve.process.stderrText.contains("removed 1 upload folder(s)"), "round \(round): \(serve.process.stderrText.suffix(500))")
                }
                let page = try #require(try await HTTPExchange.send(serve.url("/v1/events?limit=1000")).json)
                let stored = Dictionary((page["events"] as? [[String: Any]] ?? []).compactMap { e in (e["id"] as? String).map { ($0, e) } },
                                        uniquingKeysWith: { a, _ in a })
                let missing = printed.filter { stored[$0]?["phase"] as? String != "end" }
                #expect(missing.isEmpty, "round \(round): printed before a kill but not in the history: \(missing)")
                #expect(!serve.process.stderrText.contains("moved aside"), "round \(round): \(serve.process.stderrText.suffix(500))")
                if round == count {
                    _ = try await serve.stop()
                    #expect(try uploadFolders().isEmpty, "a stopped service leaves its upload folder")
                    break
                }
                // What an upload being written at the kill leaves behind.
                try Data(count: 1 << 20).write(to: temporary.appendingPathComponent(own).appendingPathComponent("partial-upload"))
                // Kill at a different point of the stream each round: after 1 to 3 more printed ends.
                let wanted = 1 + round % 3
                let seen = try await offThread { () -> Int in
                    let deadline = Date().addingTimeInterval(60)
                    while Date() < deadline {
                        let ends = serve.process.stdoutText.components(separatedBy: "\"phase\":\"end\"").count - 1
                        if ends >= wanted { return ends }
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                    return 0
                }
                #expect(seen >= wanted, "round \(round): no event ended within 60 s")
                kill(serve.process.process.processIdentifier, SIGKILL)
                let killed = try await serve.process.finish()
                printed += killed.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                    .filter { $0["phase"] as? String == "end" }.compactMap { $0["id"] as? String }
            }
            print("fault kill-9: \(count) kills during writes, \(printed.count) printed events checked, 0 lost")
        }

        /// The state directory's disk fills up: /health names `database`, the error is logged once,
        /// capture, the live socket and the printed events go on; the events are held and written once
        /// there is room again.
        @Test func aFullDiskIsReportedAndNothingIsLost() async throws {
            try #require(getuid() == 0, "mounting a small tmpfs for the state directory needs root (CI runs as root)")
            let state = try TestPaths.temporaryDirectory("hark-full")
            let mount = try Process.run(URL(fileURLWithPath: "/usr/bin/mount"), arguments: ["-t", "tmpfs", "-o", "size=4m", "tmpfs", state.path])
            mount.waitUntilExit()
            try #require(mount.terminationStatus == 0, "could not mount a tmpfs on \(state.path)")
            defer { _ = try? Process.run(URL(fileURLWithPath: "/usr/bin/umount"), arguments: ["-l", state.path]) }
            let serve = try await ServeProcess.start(["--model", model, "--demo", "--hop", "0.5", "--hold", "0.5"], stateDirectory: state)
            defer { serve.process.process.terminate() }
            #expect(try await serve.waitForHealth(200, timeout: 30) != nil)
            let client = SocketClient(serve.webSocketURL("/v1/live?kinds=event,window"))
            defer { client.cancel() }

            // Fill the disk to the last byte.
            let filler = state.appendingPathComponent("filler")
            FileManager.default.createFile(atPath: filler.path, contents: nil)
            let handle = try FileHandle(forWritingTo: filler)
            let block = Data(count: 64 * 1024)
            while (try? handle.write(contentsOf: block)) != nil {}
            try? handle.close()

            let failing = try await serve.waitForHealth(503, timeout: 60)
            #expect(failing != nil, "/health stayed 200 on a full disk")
            #expect(try await serve.health().failing == ["database"])
            let full = try await status(serve)
            let history = try #require(full["history"] as? [String: Any])
            #expect(history["writes_failing"] as? Bool == true && (history["held_events"] as? Int ?? 0) > 0, "\(history)")
            let stderr = serve.process.stderrText
            #expect(stderr.contains("history: writes fail") && stderr.components(separatedBy: "history: writes fail").count == 2,
                    "one error line when writes start failing: \(stderr.suffix(2000))")

            // Capture and the live stream go on while the disk is full.
            let windowsBefore = client.of("window").count, eventsBefore = client.of("event").count
            let nextEvent = try await client.waitFor(timeout: 60) { _ in client.of("event").count > eventsBefore }
            #expect(nextEvent != nil, "events still reach clients")
            #expect(client.of("window").count >= windowsBefore + 6)
            #expect(try await serve.health().status == 503)
            let summary = try #require(try await status(serve)["summary"] as? [String: Any])
            #expect(summary["windows_dropped"] as? Int == 0, "\(summary)")

            // Room again: the held events are written, /health recovers.
            try FileManager.default.removeItem(at: filler)
            #expect(try await serve.waitForHealth(200, timeout: 30) != nil, "/health did not recover after the disk was freed")
            let recovered = try #require(try await status(serve)["history"] as? [String: Any])
            #expect(recovered["held_events"] as? Int == 0 && recovered["events_not_recorded"] as? Int == 0, "\(recovered)")
            #expect(serve.process.stderrText.contains("history: writes work again"))
            let result = try await serve.stop()
            let ends = result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { $0["phase"] as? String == "end" }.compactMap { $0["id"] as? String }
            #expect(!ends.isEmpty)
            let reopened = try await ServeProcess.start(["--model", model, "--demo"], stateDirectory: state)
            defer { reopened.process.process.terminate() }
            let page = try #require(try await HTTPExchange.send(reopened.url("/v1/events?limit=1000")).json)
            let stored = Set((page["events"] as? [[String: Any]] ?? []).filter { $0["phase"] as? String == "end" }.compactMap { $0["id"] as? String })
            #expect(Set(ends).isSubset(of: stored), "printed but not recorded: \(Set(ends).subtracting(stored))")
            print("fault disk-full: /health 503 after \(String(format: "%.1f", failing ?? -1)) s, \(history["held_events"] ?? 0) events held, "
                  + "\(ends.count) printed events all recorded after the disk was freed")
        }
    }
}
