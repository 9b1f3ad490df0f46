import Foundation

/// A private Mosquitto broker on a loopback port for one test, with persistence in its own folder
/// (so a graceful stop keeps persistent sessions), and subscribers that are real `mosquitto_sub`
/// processes. Stop it with `stop()` (SIGTERM, as an operator would) or `kill()`; `start()` again
/// on the same port and folder. Broker and subscribers are started with `posix_spawn`
/// (`ChildProcess`), not Foundation's `Process`: a broker running as root drops to its own user,
/// and Foundation's reaping then blocked every later `waitUntilExit` of the test run.
public final class MosquittoBroker: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private var pid: pid_t?
    public var url: String { "mqtt://127.0.0.1:\(port)" }

    /// `extra`: more mosquitto.conf lines for the listener (TLS files, a password file, …);
    /// `anonymous`: whether clients without credentials may connect.
    public init(extra: String = "", anonymous: Bool = true, in directory: URL? = nil) throws {
        self.directory = try directory ?? TestPaths.temporaryDirectory("hark-mqtt")
        let directory = self.directory
        port = Int.random(in: 20_000..<40_000)
        let config = """
            listener \(port) 127.0.0.1
            allow_anonymous \(anonymous)
            \(extra)
            persistence true
            persistence_location \(directory.path)/
            log_dest file \(directory.path)/broker.log
            """
        try config.write(to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
        try start()
    }

    deinit { kill() }

    /// Starts the broker and waits until its port accepts connections.
    public func start(timeout: Double = 10) throws {
        // Its own user (when it drops root) must write the persistence folder.
        chmod(directory.path, 0o777)
        pid = try ChildProcess.spawn("/usr/sbin/mosquitto", ["-c", directory.appendingPathComponent("mosquitto.conf").path],
                                     environment: ["PATH": "/usr/bin:/bin"])
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if Self.accepts(port) { return }
            usleep(50_000)
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSDebugDescriptionErrorKey: "mosquitto did not listen on \(port)"])
    }

    /// SIGTERM: the broker saves its sessions and exits.
    public func stop() {
        guard let pid else { return }
        ChildProcess.terminate(pid, signal: SIGTERM, graceSeconds: 5)
        self.pid = nil
    }

    public func kill() {
        guard let pid else { return }
        ChildProcess.terminate(pid, signal: SIGKILL, graceSeconds: 5)
        self.pid = nil
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// A `mosquitto_sub -v` on `topics`; with an `id`, a persistent session (QoS 1) that a broker
    /// keeps across a graceful restart.
    public func subscribe(_ topics: [String], id: String? = nil) throws -> Subscriber {
        var arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-v", "-q", "1"]
        if let id { arguments += ["-c", "-i", id] }
        for t in topics { arguments += ["-t", t] }
        let output = directory.appendingPathComponent("sub-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        let pid = try ChildProcess.spawn("/bin/sh", ["-c", "exec /usr/bin/mosquitto_sub \(quoted) > '\(output.path)'"],
                                         environment: ["PATH": "/usr/bin:/bin"])
        usleep(300_000)   // subscribed before the test goes on
        return Subscriber(pid: pid, output: output)
    }

    /// A subscriber process and what it received, as `topic payload` lines.
    public final class Subscriber: @unchecked Sendable {
        private var pid: pid_t?
        private let output: URL

        init(pid: pid_t, output: URL) {
            self.pid = pid
            self.output = output
        }

        /// (topic, payload) of every complete message so far.
        public var messages: [(topic: String, payload: String)] {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n") ?? text.startIndex)])
            return complete.split(separator: "\n").map { line in
                let parts = line.split(separator: " ", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        }

        public func waitFor(timeout: Double, _ match: @escaping @Sendable ((topic: String, payload: String)) -> Bool) async throws -> (topic: String, payload: String)? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let m = messages.first(where: match) { return m }
                try await pause(0.05)
            }
            return messages.first(where: match)
        }

        public func stop() {
            guard let pid else { return }
            ChildProcess.terminate(pid, signal: SIGTERM, graceSeconds: 2)
            self.pid = nil
        }

        deinit { stop() }
    }
}
