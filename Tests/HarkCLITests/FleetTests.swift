import Foundation
import Testing
import TestSupport

/// `hark listen` into a real Mosquitto broker on loopback, with `mosquitto_sub` listening; and
/// `hark classify` over a sharded, resumable archive.
@Suite(.serialized) struct FleetTests {
    let model = TestPaths.shippedModelCard

    func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    func isEvent(_ phase: String, _ label: String) -> @Sendable ((topic: String, payload: String)) -> Bool {
        { $0.topic == "hark/t1/event" && $0.payload.contains("\"phase\":\"\(phase)\"") && $0.payload.contains("\"label\":\"\(label)\"") }
    }

    /// Clips played into the capture sink come out as events and states; the broker stopped and
    /// restarted mid-stream loses none of the events that ended meanwhile; the Last Will says
    /// offline when hark dies; a restarted hark sets every state OFF again.
    @Test func eventsReachTheBrokerThroughARestartAndTheWillIsSaid() async throws {
        let clips = try await offThread { ConfidentClips.shippedModel }
        try #require(clips.count == 2)
        let broker = try MosquittoBroker()
        defer { broker.kill() }
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        var subscriber = try broker.subscribe(["hark/t1/#"], id: "fleet-test")
        let arguments = ["listen", "--model", model, "--source", "pulse:\(pulse.monitorName)", "--emit", "events,status",
                         "--hold", "0.5", "--mqtt", broker.url, "--mqtt-node", "t1"]
        let hark = HarkProcess.start(arguments, environment: pulse.clientEnvironment)
        try hark.process.run()
        #expect(try await hark.waitForOutput(containing: "\"status\":\"mqtt_connected\"", timeout: 20))
        #expect(try await subscriber.waitFor(timeout: 10) { $0.topic == "hark/t1/status" && $0.payload == "online" } != nil)
        try await pause(2.5)

        // A clip through the capture path: its event and its state.
        let player = try pulse.play(path: clips[0].path)
        try await offThread { player.waitUntilExit() }
        #expect(try await subscriber.waitFor(timeout: 20, isEvent("end", clips[0].label)) != nil, "\(subscriber.messages.suffix(5))")
        let states = subscriber.messages.filter { $0.topic == "hark/t1/state/\(clips[0].label)" }.map(\.payload)
        #expect(states.suffix(2) == ["ON", "OFF"], "\(states)")

        // The broker goes away; an event starts and ends meanwhile.
        broker.stop()
        subscriber.stop()
        #expect(try await hark.waitForOutput(containing: "\"status\":\"mqtt_lost\"", timeout: 20))
        let second = try pulse.play(path: clips[1].path)
        try await offThread { second.waitUntilExit() }
        let ended = try #require(try await hark.waitForLine(timeout: 20) {
            $0.contains("\"phase\":\"end\"") && $0.contains("\"label\":\"\(clips[1].label)\"")
        })
        let id = try #require(object(ended)["id"] as? String)
        try broker.start()
        subscriber = try broker.subscribe(["hark/t1/#"], id: "fleet-test")
        // The events that ended while the broker was down arrive after the reconnect.
        let resent = try await subscriber.waitFor(timeout: 40) { $0.topic == "hark/t1/event" && $0.payload.contains("\"id\":\"\(id)\"") && $0.payload.contains("\"phase\":\"end\"") }
        #expect(resent != nil, "event \(id) ended while the broker was down and never arrived: \(subscriber.messages.suffix(5))")
        #expect(subscriber.messages.contains { $0.topic == "hark/t1/event" && $0.payload.contains("\"id\":\"\(id)\"") && $0.payload.contains("\"phase\":\"start\"") })
        #expect(hark.stdoutText.components(separatedBy: "\"status\":\"mqtt_connected\"").count - 1 >= 2)

        // hark dies: the broker says the Last Will.
        let watcher = try broker.subscribe(["hark/t1/status"])
        kill(hark.process.processIdentifier, SIGKILL)
        _ = try await hark.finish()
        #expect(try await watcher.waitFor(timeout: 15) { $0.payload == "offline" } != nil, "no Last Will: \(watcher.messages)")

        // A restarted hark: every watched state is OFF, retained, and the node is online again.
        let again = HarkProcess.start(arguments, environment: pulse.clientEnvironment)
        try again.process.run()
        #expect(try await again.waitForOutput(containing: "\"status\":\"mqtt_connected\"", timeout: 20))
        try await pause(1)
        let fresh = try broker.subscribe(["hark/t1/state/#", "hark/t1/status"])
        let retained = try await fresh.waitFor(timeout: 10) { $0.topic == "hark/t1/state/\(clips[1].label)" }
        #expect(retained?.payload == "OFF")
        #expect(try await fresh.waitFor(timeout: 5) { $0.topic == "hark/t1/status" }?.payload == "online")
        try await pause(1)
        #expect(fresh.messages.filter { $0.topic.hasPrefix("hark/t1/state/") }.count == 50)
        again.process.terminate()
        _ = try await again.finish()
        for s in [subscriber, watcher, fresh] { s.stop() }
    }

    @Test func homeAssistantDiscoveryAndABoundedOutbox() async throws {
        let broker = try MosquittoBroker()
        defer { broker.kill() }
        let discovery = try broker.subscribe(["homeassistant/#"])
        let config = try TestPaths.temporaryDirectory().appendingPathComponent("hark.toml")
        try "[mqtt]\nlevel = true\nlevel_interval_seconds = 1\noutbox_events = 10\n".write(to: config, atomically: true, encoding: .utf8)
        // Discovery for the allowed sounds only, and the level sensor.
        let hark = HarkProcess.start(["listen", "--model", model, "--demo", "--config", config.path, "--allow", "dog,rooster",
                                      "--mqtt", broker.url, "--mqtt-node", "t2", "--mqtt-discovery", "--emit", "events,status"])
        try hark.process.run()
        let dog = try #require(try await discovery.waitFor(timeout: 20) { $0.topic == "homeassistant/binary_sensor/t2/dog/config" })
        let fields = object(dog.payload)
        #expect(fields["state_topic"] as? String == "hark/t2/state/dog" && fields["payload_on"] as? String == "ON")
        #expect(fields["availability_topic"] as? String == "hark/t2/status" && fields["unique_id"] as? String == "hark_t2_dog")
        #expect((fields["device"] as? [String: Any])?["identifiers"] as? [String] == ["hark_t2"])
        #expect(try await discovery.waitFor(timeout: 5) { $0.topic == "homeassistant/sensor/t2/level/config" } != nil)
        try await pause(1)
        #expect(Set(discovery.messages.map(\.topic)).count == 3)
        let level = try broker.subscribe(["hark/t2/level"])
        #expect(try await level.waitFor(timeout: 10) { Double($0.payload) != nil } != nil)
        hark.process.terminate()
        _ = try await hark.finish()

        // With the broker away and every class firing, the outbox keeps 10 events and says what it dropped.
        broker.stop()
        let offline = HarkProcess.start(["listen", "--model", model, "--demo", "--config", config.path, "--mqtt", broker.url,
                                         "--mqtt-node", "t3", "--emit", "events,status",
                                         "--on-threshold", "0.0001", "--off-threshold", "0.0001", "--confirm", "1/1"])
        try offline.process.run()
        let dropped = try #require(try await offline.waitForLine(timeout: 30) { $0.contains("\"status\":\"mqtt_dropped\"") })
        #expect((object(dropped)["total"] as? Int ?? 0) > 0)
        #expect(offline.process.isRunning)
        offline.process.terminate()
        let result = try await offline.finish()
        #expect(result.status == 0)
        for s in [discovery, level] { s.stop() }
    }

    /// mqtts:// with the broker's CA from the config, and a user name and password.
    @Test func tlsAndCredentials() async throws {
        let dir = try TestPaths.temporaryDirectory("hark-mqtt")
        func run(_ tool: String, _ arguments: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = arguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(tool) \(arguments)")
        }
        let path = { (name: String) in dir.appendingPathComponent(name).path }
        try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hark test CA",
                                     "-keyout", path("ca.key"), "-out", path("ca.crt")])
        try run("/usr/bin/openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                                     "-keyout", path("server.key"), "-out", path("server.csr")])
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: path("san.ext"), atomically: true, encoding: .utf8)
        try run("/usr/bin/openssl", ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
                                     "-CAcreateserial", "-days", "1", "-extfile", path("san.ext"), "-out", path("server.crt")])
        try run("/usr/bin/mosquitto_passwd", ["-c", "-b", path("passwords"), "node1", "s3cret"])
        for f in ["server.key", "passwords"] { chmod(path(f), 0o644) }
        let broker = try MosquittoBroker(extra: """
            cafile \(path("ca.crt"))
            certfile \(path("server.crt"))
            keyfile \(path("server.key"))
            password_file \(path("passwords"))
            """, anonymous: false, in: dir)
        defer { broker.kill() }
        let config = dir.appendingPathComponent("hark.toml")
        try """
            [mqtt]
            url = "mqtts://127.0.0.1:\(broker.port)"
            node = "t4"
            username = "node1"
            password = "s3cret"
            ca_file = "\(path("ca.crt"))"
            """.write(to: config, atomically: true, encoding: .utf8)
        let hark = HarkProcess.start(["listen", "--model", model, "--demo", "--config", config.path, "--emit", "events,status"])
        try hark.process.run()
        #expect(try await hark.waitForOutput(containing: "\"status\":\"mqtt_connected\"", timeout: 30),
                "\(hark.stdoutText.suffix(1500))")
        hark.process.terminate()
        _ = try await hark.finish()
        // A wrong password never connects; capture goes on regardless.
        let wrong = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "s3cret", with: "wrong")
        try wrong.write(to: config, atomically: true, encoding: .utf8)
        let refused = HarkProcess.start(["listen", "--model", model, "--demo", "--config", config.path, "--emit", "events,status"])
        try refused.process.run()
        #expect(try await refused.waitForOutput(containing: "\"phase\":\"start\"", timeout: 30))
        #expect(!refused.stdoutText.contains("mqtt_connected"))
        refused.process.terminate()
        #expect(try await refused.finish().status == 0)
    }

    /// The same archive as one shard and as three: the same results; a killed shard resumes.
    @Test func aShardedArchiveGivesTheSameResultsAndResumes() async throws {
        let clips = try ESC50Clips.fold5(count: 9)
        let dir = try TestPaths.temporaryDirectory()
        let list = dir.appendingPathComponent("archive.txt")
        try (["# the archive", ""] + clips).joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        func lines(_ url: URL) throws -> [String: String] {
            let text = try String(contentsOf: url, encoding: .utf8)
            var byFile: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let file = try #require(object(String(line))["file"] as? String)
                #expect(byFile[file] == nil, "\(file) twice in \(url.lastPathComponent)")
                byFile[file] = String(line)
            }
            return byFile
        }
        let whole = dir.appendingPathComponent("whole.jsonl")
        #expect(try await HarkProcess.run(["classify", "--model", model, "--files-from", list.path, "--output", whole.path]).status == 0)
        var union: [String: String] = [:]
        for k in 0..<3 {
            let out = dir.appendingPathComponent("shard-\(k).jsonl")
            let r = try await HarkProcess.run(["classify", "--model", model, "--files-from", "-", "--shard", "\(k)/3",
                                               "--output", out.path], stdin: Data(try Data(contentsOf: list)))
            #expect(r.status == 0, "\(r.stderr)")
            let shard = try lines(out)
            #expect(Set(shard.keys).isDisjoint(with: Set(union.keys)))
            union.merge(shard) { a, _ in a }
        }
        #expect(try lines(whole) == union && union.count == 9)

        // A shard killed after its first file, run again: complete, nothing twice.
        let resumed = dir.appendingPathComponent("resumed.jsonl")
        let first = HarkProcess.start(["classify", "--model", model, "--files-from", list.path, "--output", resumed.path])
        try first.process.run()
        _ = try await offThread { () -> Bool in
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let text = try? String(contentsOf: resumed, encoding: .utf8), text.contains("\n") { return true }
                usleep(20_000)
            }
            return false
        }
        kill(first.process.processIdentifier, SIGKILL)
        _ = try await first.finish()
        let partial = try lines(resumed)
        #expect(partial.count >= 1 && partial.count < 9, "killed after \(partial.count) files")
        #expect(try await HarkProcess.run(["classify", "--model", model, "--files-from", list.path, "--output", resumed.path]).status == 0)
        #expect(try lines(resumed) == union)
    }
}

/// Paths of fold-5 ESC-50 clips.
enum ESC50Clips {
    static func fold5(count: Int) throws -> [String] {
        let csv = try String(contentsOf: TestPaths.esc50.appendingPathComponent("meta/esc50.csv"), encoding: .utf8)
        return csv.split(separator: "\n").dropFirst().compactMap { line -> String? in
            let f = line.split(separator: ",")
            guard f.count > 1, f[1] == "5" else { return nil }
            return TestPaths.esc50Clip(String(f[0]).replacingOccurrences(of: ".wav", with: ".ogg"))
        }.prefix(count).map { $0 }
    }
}
