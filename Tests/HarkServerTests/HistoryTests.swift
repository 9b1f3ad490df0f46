import Foundation
import HarkAudio
import HarkClassifier
import Testing
import TestSupport

extension ServeSuites {
    /// The history over real sockets: events and their audio survive, are queried, and go when the
    /// retention says.
    @Suite(.serialized) struct HistoryTests {
        let model = TestPaths.shippedModelCard

        func config(_ lines: String) throws -> String {
            let url = try TestPaths.temporaryDirectory().appendingPathComponent("hark.toml")
            try "[server]\n\(lines)\n".write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }

        func json(_ serve: ServeProcess, _ path: String) async throws -> [String: Any] {
            let r = try await HTTPExchange.send(serve.url(path))
            #expect(r.status == 200, "\(path): \(r.status) \(r.text.prefix(300))")
            return try #require(r.json)
        }

        /// A clip played into the capture sink comes back as the event's audio, and goes with retention.
        @Test func anEventsAudioIsThePlayedClipUntilRetentionRemovesIt() async throws {
            let clip = try #require(try await offThread { ConfidentClips.shippedModel.first })
            let pulse = try await PulseAudioDaemon.started()
            defer { pulse.stop() }
            // Events older than 0.0003 days (26 s) go; the pass runs every second.
            let serve = try await ServeProcess.start(["--model", model, "--source", "pulse:\(pulse.monitorName)",
                                                      "--config", try config("retention_days = 0.0003\nretention_check_seconds = 1")],
                                                     environment: pulse.clientEnvironment)
            defer { serve.process.process.terminate() }
            try await pause(3)
            let player = try pulse.play(path: clip.path)
            try await offThread { player.waitUntilExit() }
            let ended = try await serve.process.waitForLine(timeout: 20) {
                $0.contains("\"phase\":\"end\"") && $0.contains("\"label\":\"\(clip.label)\"")
            }
            let line = try #require(ended, "no end of \(clip.label): \(serve.process.stdoutText.suffix(1500))")
            let id = try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String)
            // The event is in the history with a link to its audio.
            let stored = try await json(serve, "/v1/events/\(id)")
            #expect(stored["phase"] as? String == "end" && stored["label"] as? String == clip.label)
            let listed = try await json(serve, "/v1/events?label=\(clip.label)")
            #expect((listed["events"] as? [[String: Any]])?.contains { $0["id"] as? String == id } == true)
            #expect(stored["audio"] as? String == "/v1/events/\(id)/audio")
            let audio = try await HTTPExchange.send(serve.url("/v1/events/\(id)/audio"))
            #expect(audio.status == 200 && audio.headers["content-type"] == "audio/flac")
            let file = try TestPaths.temporaryDirectory().appendingPathComponent("event.flac")
            try audio.body.write(to: file)
            let correlation = try await offThread { try AudioMatch.bestCorrelation(recording: file.path, clip: clip.path) }
            #expect(correlation > 0.8, "the event's audio correlates \(correlation) with the played clip")

            // Gone after the retention limit: the row, the link and the file.
            let gone = try await offThread { () -> Bool in
                let deadline = Date().addingTimeInterval(45)
                while Date() < deadline {
                    if let data = try? Data(contentsOf: serve.url("/v1/events?limit=1000")),
                       let page = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                       let events = page["events"] as? [[String: Any]], !events.contains(where: { $0["id"] as? String == id }) {
                        return true
                    }
                    Thread.sleep(forTimeInterval: 1)
                }
                return false
            }
            #expect(gone, "event \(id) outlived the retention limit")
            #expect(try await HTTPExchange.send(serve.url("/v1/events/\(id)/audio")).status == 404)
            #expect(!FileManager.default.fileExists(atPath: serve.stateDirectory.appendingPathComponent("audio/\(id).flac").path))
        }

        /// A damaged database is moved aside with a log line, never overwritten, and a new one serves.
        @Test func aDamagedDatabaseIsMovedAsideNotOverwritten() async throws {
            let state = try TestPaths.temporaryDirectory("hark-state")
            let damaged = Data(repeating: 0x5A, count: 8192)
            try damaged.write(to: state.appendingPathComponent("hark.sqlite"))
            let serve = try await ServeProcess.start(["--model", model, "--demo"], stateDirectory: state)
            defer { serve.process.process.terminate() }
            #expect(serve.process.stderrText.contains("moved aside"), "\(serve.process.stderrText.suffix(1500))")
            let files = try FileManager.default.contentsOfDirectory(atPath: state.path)
            let aside = try #require(files.first { $0.hasPrefix("hark.sqlite.damaged-") }, "\(files)")
            #expect(try Data(contentsOf: state.appendingPathComponent(aside)) == damaged)
            #expect(try await HTTPExchange.send(serve.url("/v1/events")).status == 200)
        }

        @Test func eventsAreFilteredPagedAndGivenAsCSV() async throws {
            let serve = try await ServeProcess.start(["--model", model, "--demo", "--hop", "0.5", "--hold", "0.5"])
            defer { serve.process.process.terminate() }
            _ = try await offThread { () -> Bool in
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline {
                    if serve.process.stdoutText.components(separatedBy: "\"phase\":\"start\"").count - 1 >= 4 { return true }
                    Thread.sleep(forTimeInterval: 0.2)
                }
                return false
            }
            let all = try #require(try await json(serve, "/v1/events?limit=1000")["events"] as? [[String: Any]])
            #expect(all.count >= 4)
            // Pages of two, newest first, following the cursor, give the same events.
            var paged: [String] = [], cursor: String?
            repeat {
                let page = try await json(serve, "/v1/events?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                let events = page["events"] as? [[String: Any]] ?? []
                #expect(events.count <= 2)
                paged += events.compactMap { $0["id"] as? String }
                cursor = page["next"] as? String
            } while cursor != nil && paged.count < 1000
            // Events may arrive between pages (they come first, newest first): none is lost or repeated.
            #expect(Set(paged).count == paged.count)
            #expect(Set(all.compactMap { $0["id"] as? String }).isSubset(of: Set(paged)))
            let label = try #require(all.first?["label"] as? String)
            let byLabel = try #require(try await json(serve, "/v1/events?label=\(label)")["events"] as? [[String: Any]])
            #expect(!byLabel.isEmpty && byLabel.allSatisfy { $0["label"] as? String == label })
            let strong = try #require(try await json(serve, "/v1/events?min_score=0.9")["events"] as? [[String: Any]])
            #expect(strong.allSatisfy { ($0["peak_score"] as? Double ?? 0) >= 0.9 })
            let future = try #require(try await json(serve, "/v1/events?from=2999-01-01T00:00:00Z")["events"] as? [[String: Any]])
            #expect(future.isEmpty)
            let csv = try await HTTPExchange.send(serve.url("/v1/events"), headers: ["Accept": "text/csv"])
            #expect(csv.status == 200 && csv.headers["content-type"]?.hasPrefix("text/csv") == true)
            let rows = csv.text.split(separator: "\n")
            #expect(rows.first?.hasPrefix("id,label,emoji,class_index,phase") == true && rows.count >= all.count + 1)
            #expect(try await HTTPExchange.send(serve.url("/v1/events?min_score=2")).status == 400)
            #expect(try await HTTPExchange.send(serve.url("/v1/events/nope")).status == 404)
        }

        @Test func uploadsAreRecordedUnlessAskedNot() async throws {
            let fixture = try ParityFixture.load(ParityFixture.shippedModelName)
            let clip = try #require(fixture.clips.first { $0.verdict == $0.target })
            let audio = try Data(contentsOf: URL(fileURLWithPath: TestPaths.esc50Clip(clip.file)))
            let serve = try await ServeProcess.start(["--model", model, "--demo"])
            defer { serve.process.process.terminate() }
            let kept = try await HTTPExchange.send(serve.url("/v1/classify"), method: "POST", body: audio, headers: ["Content-Type": "audio/ogg"])
            let id = try #require(kept.json?["analysis_id"] as? String)
            let skipped = try await HTTPExchange.send(serve.url("/v1/classify?record=false"), method: "POST", body: audio,
                                                      headers: ["Content-Type": "audio/ogg"])
            #expect(skipped.status == 200 && skipped.json?["analysis_id"] == nil)
            let list = try #require(try await json(serve, "/v1/analyses")["analyses"] as? [[String: Any]])
            #expect(list.count == 1 && list.first?["id"] as? String == id)
            #expect((list.first?["predictions"] as? [[String: Any]])?.first?["class"] as? String == clip.label)
            // Opened again: the same answer, maps included (recomputed from the kept file).
            let again = try await json(serve, "/v1/analyses/\(id)")
            #expect((again["visualization"] as? [String: Any])?.count == (kept.json?["visualization"] as? [String: Any])?.count)
            #expect((again["predictions"] as? [[String: Any]])?.first?["class"] as? String == clip.label)
            let deleted = try await HTTPExchange.send(serve.url("/v1/analyses/\(id)"), method: "DELETE")
            #expect(deleted.status == 204)
            #expect(try await HTTPExchange.send(serve.url("/v1/analyses/\(id)")).status == 404)
            #expect((try await json(serve, "/v1/analyses")["analyses"] as? [Any])?.isEmpty == true)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: serve.stateDirectory.appendingPathComponent("uploads").path))?.isEmpty ?? true)
        }
    }
}

/// How well a recording holds a clip: the best normalised cross-correlation of the two waveforms
/// at 8 kHz, the lag found coarsely on their 10-ms energy envelopes and refined on the samples.
enum AudioMatch {
    static func bestCorrelation(recording: String, clip: String) throws -> Double {
        let rate = 8000
        let a = try PreparedAudio.load(path: recording, sampleRate: rate).samples
        let b = try PreparedAudio.load(path: clip, sampleRate: rate).samples
        let frame = rate / 100
        func envelope(_ x: [Float]) -> [Double] {
            stride(from: 0, to: x.count - frame, by: frame).map { i in
                (x[i..<(i + frame)].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(frame)).squareRoot()
            }
        }
        let ea = envelope(a), eb = envelope(b)
        var bestLag = 0, bestScore = -Double.infinity
        for lag in -eb.count..<ea.count {
            var s = 0.0
            for j in eb.indices where lag + j >= 0 && lag + j < ea.count { s += ea[lag + j] * eb[j] }
            if s > bestScore { bestScore = s; bestLag = lag }
        }
        var best = 0.0
        for fine in -frame...frame {
            let lag = bestLag * frame + fine
            var dot = 0.0, na = 0.0, nb = 0.0
            for j in b.indices where lag + j >= 0 && lag + j < a.count {
                let x = Double(a[lag + j]), y = Double(b[j])
                dot += x * y
                na += x * x
                nb += y * y
            }
            if na > 0, nb > 0 { best = max(best, dot / (na * nb).squareRoot()) }
        }
        return best
    }
}
