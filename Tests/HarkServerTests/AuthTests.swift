import Foundation
import Testing
import TestSupport

extension ServeSuites {
    /// Token auth over real sockets: what is refused, what gets in, and that an exposed server without
    /// a token does not start.
    @Suite struct AuthTests {
        let model = TestPaths.shippedModelCard

        /// A token from `hark token new`, and the [server] line it prints.
        func newToken() async throws -> (token: String, line: String) {
            let r = try await HarkProcess.run(["token", "new"])
            #expect(r.status == 0)
            let token = try #require(r.lines.first { $0.hasPrefix("token: ") }).dropFirst("token: ".count)
            let line = try #require(r.lines.first { $0.hasPrefix("tokens = [\"sha256:") })
            #expect(!line.contains(token), "the stored line must not hold the token itself")
            return (String(token), line)
        }

        func serve(_ extra: String, arguments: [String] = []) async throws -> (ServeProcess, String) {
            let (token, line) = try await newToken()
            let config = try TestPaths.temporaryDirectory().appendingPathComponent("hark.toml")
            try "[server]\n\(line)\n\(extra)\n".write(to: config, atomically: true, encoding: .utf8)
            return (try await ServeProcess.start(["--model", model, "--demo", "--config", config.path] + arguments), token)
        }

        @Test func onlyTheRightTokenOrSessionGetsIn() async throws {
            let (serve, token) = try await serve("session_hours = 0.0008\nauth_failures_per_minute = 50")
            defer { serve.process.process.terminate() }
            let status = serve.url("/v1/status")
            // No token, a wrong one, a forged cookie: refused, saying why (never with the token's hash).
            let none = try await HTTPExchange.send(status)
            #expect(none.status == 401 && none.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            #expect(try await HTTPExchange.send(status, headers: ["Authorization": "Bearer not-the-token"]).status == 401)
            #expect(try await HTTPExchange.send(status, headers: ["Cookie": "hark_session=forged"]).status == 401)
            for path in ["/v1/events", "/v1/model", "/metrics", "/v1/analyses"] {
                #expect(try await HTTPExchange.send(serve.url(path)).status == 401, "\(path) is open")
            }
            let upload = try await HTTPExchange.send(serve.url("/v1/classify"), method: "POST", body: Data("x".utf8),
                                                     headers: ["Content-Type": "audio/wav"])
            #expect(upload.status == 401)
            // The right token.
            #expect(try await HTTPExchange.send(status, headers: ["Authorization": "Bearer \(token)"]).status == 200)
            // /health stays open and says nothing but its checks.
            let health = try await HTTPExchange.send(serve.url("/health"))
            #expect([200, 503].contains(health.status) && Set(health.json?.keys.map { $0 } ?? []) == ["status", "failing"])

            // A browser: the token posted once gives an HttpOnly, SameSite=Strict session cookie.
            #expect(try await HTTPExchange.send(serve.url("/v1/session"), method: "POST",
                                                body: Data(#"{"token":"wrong"}"#.utf8)).status == 401)
            let login = try await HTTPExchange.send(serve.url("/v1/session"), method: "POST", body: Data("{\"token\":\"\(token)\"}".utf8),
                                                    headers: ["Content-Type": "application/json"])
            #expect(login.status == 204)
            let setCookie = try #require(login.headers["set-cookie"])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let cookie = try #require(setCookie.split(separator: ";").first.map(String.init))
            #expect(try await HTTPExchange.send(status, headers: ["Cookie": cookie]).status == 200)
            // The cookie opens the live socket; the same cookie from a foreign page does not.
            let withCookie = try RawWebSocket(port: serve.port, pathAndQuery: "/v1/live", origin: "http://127.0.0.1:\(serve.port)",
                                              headers: ["Cookie": cookie])
            #expect(withCookie.statusLine.hasPrefix("HTTP/1.1 101"), "\(withCookie.statusLine)")
            let foreign = try RawWebSocket(port: serve.port, pathAndQuery: "/v1/live", origin: "http://evil.example",
                                           headers: ["Cookie": cookie])
            #expect(foreign.statusLine.hasPrefix("HTTP/1.1 400"), "\(foreign.statusLine)")
            for refused in [try RawWebSocket(port: serve.port, pathAndQuery: "/v1/live", origin: nil),
                            try RawWebSocket(port: serve.port, pathAndQuery: "/v1/live", origin: nil, headers: ["Cookie": "hark_session=forged"])] {
                #expect(refused.statusLine.hasPrefix("HTTP/1.1 400"), "\(refused.statusLine)")
            }
            let program = try RawWebSocket(port: serve.port, pathAndQuery: "/v1/live", origin: nil,
                                           headers: ["Authorization": "Bearer \(token)"])
            #expect(program.statusLine.hasPrefix("HTTP/1.1 101"), "\(program.statusLine)")
            // The session expires (0.0008 h ≈ 2.9 s here).
            try await pause(3.5)
            #expect(try await HTTPExchange.send(status, headers: ["Cookie": cookie]).status == 401)
            let expired = try RawWebSocket(port: serve.port, pathAndQuery: "/v1/live", origin: nil, headers: ["Cookie": cookie])
            #expect(expired.statusLine.hasPrefix("HTTP/1.1 400"))
            // Logging out ends a session.
            let again = try await HTTPExchange.send(serve.url("/v1/session"), method: "POST", body: Data(),
                                                    headers: ["Authorization": "Bearer \(token)"])
            let second = try #require(again.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
            #expect(try await HTTPExchange.send(serve.url("/v1/session"), method: "DELETE", headers: ["Cookie": second]).status == 204)
            #expect(try await HTTPExchange.send(status, headers: ["Cookie": second]).status == 401)
        }

        @Test func wrongAttemptsAreRateLimitedPerAddress() async throws {
            let (serve, token) = try await serve("auth_failures_per_minute = 3")
            defer { serve.process.process.terminate() }
            for _ in 0..<3 {
                #expect(try await HTTPExchange.send(serve.url("/v1/status"), headers: ["Authorization": "Bearer wrong"]).status == 401)
            }
            let limited = try await HTTPExchange.send(serve.url("/v1/status"), headers: ["Authorization": "Bearer wrong"])
            #expect(limited.status == 429 && Int(limited.headers["retry-after"] ?? "") != nil)
            // Even the right token waits out the minute from this address.
            #expect(try await HTTPExchange.send(serve.url("/v1/status"), headers: ["Authorization": "Bearer \(token)"]).status == 429)
            #expect(try await HTTPExchange.send(serve.url("/v1/session"), method: "POST", body: Data("{\"token\":\"\(token)\"}".utf8)).status == 429)
        }

        /// A bad setting from any layer stops start-up naming the key (or variable) and its range.
        @Test func aBadSettingStopsStartUpNamingTheKey() async throws {
            let state = try TestPaths.temporaryDirectory()
            let fromEnvironment = try await HarkProcess.run(["serve", "--model", model, "--demo", "--state-dir", state.path],
                                                            environment: ["HARK_SERVER_PORT": "99999"])
            #expect(fromEnvironment.status != 0 && fromEnvironment.stderr.contains("port must be 0 to 65535, got 99999"), "\(fromEnvironment.stderr)")
            let config = state.appendingPathComponent("hark.toml")
            try "[server]\nretention_days = -3\n".write(to: config, atomically: true, encoding: .utf8)
            let fromFile = try await HarkProcess.run(["serve", "--model", model, "--demo", "--state-dir", state.path, "--config", config.path])
            #expect(fromFile.status != 0 && fromFile.stderr.contains("retention_days must be") && fromFile.stderr.contains("got -3"),
                    "\(fromFile.stderr)")
        }

        @Test func anExposedServerWithoutATokenDoesNotStart() async throws {
            let state = try TestPaths.temporaryDirectory()
            let r = try await HarkProcess.run(["serve", "--model", model, "--demo", "--bind", "0.0.0.0", "--port", "0", "--state-dir", state.path])
            #expect(r.status != 0)
            #expect(r.stderr.contains("without an API token") && r.stderr.contains("hark token new") && r.stderr.contains("--insecure"), "\(r.stderr)")
            let listening = HarkProcess.start(["serve", "--model", model, "--demo", "--bind", "0.0.0.0", "--port", "0", "--insecure",
                                               "--state-dir", state.path])
            try listening.process.run()
            #expect(try await listening.waitForLine(timeout: 60, onStderr: true) { $0.contains("listening on http://0.0.0.0:") } != nil)
            listening.process.terminate()
            _ = try await listening.finish()
        }
    }
}
