import Foundation
import Synchronization
import Testing
import TestSupport

extension ServeSuites {
    /// The unit file as systemd judges it, and sd_notify as a test-owned `NOTIFY_SOCKET` receives it
    /// (PID 1 is not systemd here).
    @Suite struct SystemdTests {
        /// The shipped unit with ExecStart pointing at the built binary (verify wants it to exist).
        func unit() throws -> URL {
            let text = try String(contentsOf: TestPaths.root.appendingPathComponent("systemd/hark.service"), encoding: .utf8)
            #expect(text.contains("ExecStart=/usr/local/bin/hark serve "))
            let url = try TestPaths.temporaryDirectory().appendingPathComponent("hark.service")
            try text.replacingOccurrences(of: "/usr/local/bin/hark", with: HarkProcess.executable.path)
                .write(to: url, atomically: true, encoding: .utf8)
            return url
        }

        func systemdAnalyze(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
            p.arguments = arguments
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let data = try await offThread { () -> Data in
                let d = out.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                return d
            }
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        @Test func theUnitVerifiesAndItsExposureIsAtMostTwo() async throws {
            let url = try unit()
            let verify = try await systemdAnalyze(["verify", url.path])
            #expect(verify.status == 0, "\(verify.output)")
            let security = try await systemdAnalyze(["security", "--offline=true", url.path])
            let line = try #require(security.output.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(security.output)")
            let score = try #require(line.firstMatch(of: /: (\d+\.\d+)/).flatMap { Double($0.1) })
            #expect(score <= 2.0, "\(line)")
            let text = try String(contentsOf: url, encoding: .utf8)
            for needed in ["Type=notify", "WatchdogSec=", "StateDirectory=hark", "DynamicUser=yes", "SupplementaryGroups=audio",
                           "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"] {
                #expect(text.contains(needed), "the unit lacks \(needed)")
            }
        }

        /// READY=1 once up; WATCHDOG=1 every half `WATCHDOG_USEC` while audio arrives and none while
        /// capture is stalled; STOPPING=1 on SIGTERM.
        @Test func notifyReadyWatchdogFedByAudioAndStopping() async throws {
            let socket = try NotifySocket()
            let pulse = try await PulseAudioDaemon.started()
            defer { pulse.stop() }
            let config = try TestPaths.temporaryDirectory().appendingPathComponent("hark.toml")
            try "[server]\nhealth_audio_seconds = 1\n".write(to: config, atomically: true, encoding: .utf8)
            var environment = pulse.clientEnvironment
            environment["NOTIFY_SOCKET"] = socket.path
            environment["WATCHDOG_USEC"] = "1000000"   // a ping every 0.5 s
            let serve = try await ServeProcess.start(["--model", TestPaths.shippedModelCard, "--source", "pulse:\(pulse.monitorName)",
                                                      "--config", config.path], environment: environment)
            defer { serve.process.process.terminate() }
            #expect(try await socket.waitFor(timeout: 20) { $0.contains("READY=1") } != nil, "no READY=1: \(socket.messages)")
            try await pause(3)
            let flowing = socket.received(since: Date().addingTimeInterval(-3)).filter { $0 == "WATCHDOG=1" }.count
            #expect(flowing >= 4, "\(flowing) pings in 3 s while audio flowed")

            pulse.kill()
            try await pause(2.5)   // past health_audio_seconds: the pings have stopped
            let stalledSince = Date()
            try await pause(2.5)
            let stalled = socket.received(since: stalledSince).filter { $0 == "WATCHDOG=1" }.count
            #expect(stalled == 0, "\(stalled) pings while capture was stalled")
            try pulse.start()
            let resumed = try await socket.waitFor(timeout: 30, since: Date()) { $0 == "WATCHDOG=1" }
            #expect(resumed != nil, "the pings did not resume with the audio")
            #expect(socket.messages.contains { $0.hasPrefix("STATUS=") })

            serve.process.process.terminate()
            _ = try await serve.process.finish()
            #expect(socket.messages.contains { $0.contains("STOPPING=1") }, "\(socket.messages.suffix(5))")
        }
    }
}

/// A datagram socket the test binds and hands to hark as `NOTIFY_SOCKET`; what arrives is kept
/// with its arrival time.
final class NotifySocket: Sendable {
    private final class Inbox: Sendable {
        let items = Mutex<[(at: Date, text: String)]>([])
    }
    let path: String
    private let fd: Int32
    private let inbox = Inbox()

    init() throws {
        path = try TestPaths.temporaryDirectory("hark-notify").appendingPathComponent("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw CocoaError(.fileWriteUnknown) }
        Thread.detachNewThread { [inbox] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return }
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                inbox.items.withLock { box in for line in text.split(separator: "\n") { box.append((Date(), String(line))) } }
            }
        }
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    var messages: [String] { inbox.items.withLock { $0.map(\.text) } }

    func received(since: Date) -> [String] { inbox.items.withLock { $0.filter { $0.at >= since }.map(\.text) } }

    func waitFor(timeout: Double, since: Date = .distantPast, _ match: @escaping @Sendable (String) -> Bool) async throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let m = received(since: since).first(where: match) { return m }
            try await pause(0.05)
        }
        return received(since: since).first(where: match)
    }
}
