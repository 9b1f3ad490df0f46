import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import HummingbirdWSClient
import Logging
import Synchronization
import TestSupport

/// `hark serve` as a real process on a free loopback port.
struct ServeProcess {
    let process: HarkProcess.Running
    let port: Int
    /// Its state directory (history, event audio).
    let stateDirectory: URL

    /// Starts `hark serve ARGUMENTS --port 0` on a fresh state directory (or `stateDirectory`) and
    /// waits until it listens.
    static func start(_ arguments: [String], environment: [String: String] = [:], stateDirectory: URL? = nil,
                      timeout: Double = 60) async throws -> ServeProcess {
        let state = try stateDirectory ?? TestPaths.temporaryDirectory("hark-state")
        let run = HarkProcess.start(["serve", "--port", "0", "--state-dir", state.path] + arguments, environment: environment)
        try run.process.run()
        let line = try await run.waitForLine(timeout: timeout, onStderr: true) { $0.contains("listening on http://") }
        guard let line, let match = line.firstMatch(of: /listening on http:\/\/[^:]+:(\d+)/), let port = Int(match.1) else {
            run.process.terminate()
            let result = try await run.finish()
            throw ServeFailure(description: "hark serve did not start: \(result.stderr.suffix(3000))")
        }
        return ServeProcess(process: run, port: port, stateDirectory: state)
    }

    struct ServeFailure: Error, CustomStringConvertible { var description: String }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }
    func webSocketURL(_ pathAndQuery: String) -> String { "ws://127.0.0.1:\(port)\(pathAndQuery)" }

    /// SIGTERM, then everything it printed.
    func stop() async throws -> HarkProcess.Result {
        process.process.terminate()
        return try await process.finish()
    }

    /// SIGTERM, timed until the process is gone; then everything it printed.
    func stopTimed() async throws -> (seconds: Double, result: HarkProcess.Result) {
        let process = process.process
        let seconds = try await offThread { () -> Double in
            let sent = Date()
            process.terminate()
            process.waitUntilExit()
            return Date().timeIntervalSince(sent)
        }
        return (seconds, try await self.process.finish())
    }

    /// `/health`: the status and the failing checks it names.
    func health() async throws -> (status: Int, failing: [String]) {
        let r = try await HTTPExchange.send(url("/health"))
        return (r.status, r.json?["failing"] as? [String] ?? ["?"])
    }

    /// Polls `/health` every 0.1 s until it answers `status`; the seconds it took, nil on timeout.
    func waitForHealth(_ status: Int, timeout: Double) async throws -> Double? {
        let started = Date()
        while Date().timeIntervalSince(started) < timeout {
            if try await health().status == status { return Date().timeIntervalSince(started) }
            try await pause(0.1)
        }
        return nil
    }
}

/// One HTTP exchange over a real socket.
struct HTTPExchange: Sendable {
    var status: Int
    var body: Data
    var headers: [String: String]
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    var text: String { String(decoding: body, as: UTF8.self) }

    static func send(_ url: URL, method: String = "GET", body: Data? = nil, headers: [String: String] = [:],
                     timeout: Double = 120) async throws -> HTTPExchange {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http?.allHeaderFields ?? [:] { fields["\(k)".lowercased()] = "\(v)" }
        return HTTPExchange(status: http?.statusCode ?? 0, body: data, headers: fields)
    }
}

/// A live-socket client (Hummingbird's WebSocket client) that keeps every message it receives, with
/// its arrival time, and can send subscribe messages.
final class SocketClient: Sendable {
    struct Received: Sendable {
        var text: String
        var at: Date
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:] }
        var type: String { json["type"] as? String ?? "" }
    }

    private final class Inbox: Sendable {
        let received = Mutex<[Received]>([])
        let closeFrame = Mutex<(code: String, reason: String?)?>(nil)
    }
    private let inbox = Inbox()
    private let outbox: AsyncStream<String>.Continuation
    private let task: Task<Void, any Error>

    init(_ url: String, headers: [String: String] = [:]) {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        outbox = continuation
        var fields = HTTPFields()
        for (k, v) in headers { if let name = HTTPField.Name(k) { fields[name] = v } }
        let configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 24, additionalHeaders: fields)
        let inbox = inbox
        task = Task {
            let frame = try await WebSocketClient.connect(url: url, configuration: configuration,
                                                          logger: Logger(label: "test-client")) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in stream { try await outbound.write(.text(text)) }
                    }
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        if case .text(let text) = message { inbox.received.withLock { $0.append(Received(text: text, at: Date())) } }
                    }
                    group.cancelAll()
                }
            }
            inbox.closeFrame.withLock { $0 = frame.map { ("\($0.closeCode)", $0.reason) } }
        }
    }

    var messages: [Received] { inbox.received.withLock { $0 } }
    func of(_ type: String) -> [Received] { messages.filter { $0.type == type } }
    /// The server's close code (as NIO names it: goingAway, policyViolation …) and reason, once it closed.
    var closed: (code: String, reason: String?)? { inbox.closeFrame.withLock { $0 } }

    func send(_ json: String) { outbox.yield(json) }

    /// Waits until a message satisfies `match`.
    func waitFor(timeout: Double, _ match: @escaping @Sendable (Received) -> Bool) async throws -> Received? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let m = messages.first(where: match) { return m }
            try await pause(0.05)
        }
        return messages.first(where: match)
    }

    /// Waits until the connection is over.
    func finished(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if closed != nil { return true }
            try? await pause(0.05)
        }
        return closed != nil
    }

    func cancel() {
        outbox.finish()
        task.cancel()
    }
}

/// A WebSocket handshake over a plain socket, and then nothing: the client never reads (a tiny
/// receive buffer, so the server's writes to it stall quickly). Also shows how an upgrade was
/// answered (`statusLine`).
final class RawWebSocket: @unchecked Sendable {
    private let fd: Int32
    let statusLine: String

    init(port: Int, pathAndQuery: String, origin: String?, headers: [String: String] = [:]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        guard fd >= 0 else { throw ServeProcess.ServeFailure(description: "socket() failed") }
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ServeProcess.ServeFailure(description: "connect() failed") }
        let request = "GET \(pathAndQuery) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + (origin.map { "Origin: \($0)\r\n" } ?? "") + headers.map { "\($0.key): \($0.value)\r\n" }.joined()
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        // Read the answer's head byte by byte, not a byte of what follows.
        var answer = [UInt8]()
        var byte: UInt8 = 0
        while !answer.suffix(4).elementsEqual([13, 10, 13, 10]), recv(fd, &byte, 1, 0) == 1 { answer.append(byte) }
        statusLine = String(decoding: answer, as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
    }

    deinit { close(fd) }
}
