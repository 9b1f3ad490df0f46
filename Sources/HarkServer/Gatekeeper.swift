import Foundation
import HarkConfig
import Hummingbird
import Synchronization

/// Token auth for an exposed service. With no token configured everything is open (the server is
/// on loopback unless `--insecure`). With tokens, a request needs `Authorization: Bearer TOKEN`
/// or the session cookie a browser got by posting a token to `/v1/session`; wrong credentials are
/// counted per address, and an address with too many in the last minute gets 429 until the
/// minute has passed. Sessions live in memory (a restart logs browsers out), at most 10,000.
///
/// Threads: any; state behind mutexes.
final class Gatekeeper: Sendable {
    static let cookieName = "hark_session"
    private static let maxSessions = 10_000
    private static let maxTrackedAddresses = 10_000

    let tokens: [String]
    private let sessionSeconds: Double
    private let failuresPerMinute: Int
    private let sessions = Mutex<[String: Date]>([:])
    private let failures = Mutex<[String: [Date]]>([:])

    init(settings: ServerSettings) {
        tokens = settings.tokens
        sessionSeconds = settings.sessionHours * 3600
        failuresPerMinute = settings.authFailuresPerMinute
    }

    var enabled: Bool { !tokens.isEmpty }

    /// Nil when the request may go on; else the refusal.
    func refusal(_ request: Request, remote: String) -> HTTPError? {
        guard enabled else { return nil }
        let address = Self.address(remote)
        if let wait = limited(address) {
            return HTTPError(.tooManyRequests, headers: [.retryAfter: "\(wait)"],
                             message: "too many failed attempts from this address; try again in \(wait) s")
        }
        let bearer = request.headers[.authorization].flatMap(Self.bearerToken)
        let cookie = Self.cookie(Self.cookieName, in: request.headers[values: .cookie])
        if let bearer, TokenHash.matches(bearer, anyOf: tokens) { return nil }
        if let cookie, validSession(cookie) { return nil }
        if bearer != nil || cookie != nil { fail(address) }
        return HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"hark\""],
                         message: bearer != nil ? "the token is not valid"
                            : cookie != nil ? "the session has expired or is not valid; post a token to /v1/session"
                            : "this server needs an API token: Authorization: Bearer TOKEN, or a session from POST /v1/session")
    }

    /// Trades a token for a session; the Set-Cookie value, or the refusal.
    func login(token: String, remote: String) -> Result<String, HTTPError> {
        let address = Self.address(remote)
        if let wait = limited(address) {
            return .failure(HTTPError(.tooManyRequests, headers: [.retryAfter: "\(wait)"],
                                      message: "too many failed attempts from this address; try again in \(wait) s"))
        }
        guard enabled, TokenHash.matches(token, anyOf: tokens) else {
            if enabled { fail(address) }
            return .failure(HTTPError(enabled ? .unauthorized : .notFound,
                                      message: enabled ? "the token is not valid" : "this server has no tokens: nothing to log in to"))
        }
        let id = TokenHash.newToken().token
        sessions.withLock { s in
            let now = Date()
            s = s.filter { $0.value > now }
            if s.count >= Self.maxSessions, let oldest = s.min(by: { $0.value < $1.value })?.key { s[oldest] = nil }
            s[id] = now.addingTimeInterval(sessionSeconds)
        }
        return .success("\(Self.cookieName)=\(id); Path=/; Max-Age=\(Int(sessionSeconds)); HttpOnly; SameSite=Strict")
    }

    func logout(_ request: Request) -> String {
        if let id = Self.cookie(Self.cookieName, in: request.headers[values: .cookie]) {
            sessions.withLock { _ = $0.removeValue(forKey: id) }
        }
        return "\(Self.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
    }

    private func validSession(_ id: String) -> Bool {
        sessions.withLock { s in
            guard let expiry = s[id] else { return false }
            if expiry > Date() { return true }
            s[id] = nil
            return false
        }
    }

    /// Seconds until `address` may try again, when it is over the limit.
    private func limited(_ address: String) -> Int? {
        failures.withLock { f in
            let recent = (f[address] ?? []).filter { $0 > Date().addingTimeInterval(-60) }
            f[address] = recent.isEmpty ? nil : recent
            guard recent.count >= failuresPerMinute, let first = recent.first else { return nil }
            return max(1, Int((60 - Date().timeIntervalSince(first)).rounded(.up)))
        }
    }

    private func fail(_ address: String) {
        failures.withLock { f in
            if f.count >= Self.maxTrackedAddresses, f[address] == nil { f.removeAll() }
            f[address, default: []].append(Date())
        }
    }

    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    static func cookie(_ name: String, in headers: [String]) -> String? {
        for header in headers {
            for pair in header.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2, kv[0] == name, !kv[1].isEmpty { return kv[1] }
            }
        }
        return nil
    }

    /// The host part of a NIO socket address description (`[IPv4]127.0.0.1/127.0.0.1:50080`).
    static func address(_ remote: String) -> String {
        let text = remote.split(separator: "/").last.map(String.init) ?? remote
        guard let colon = text.lastIndex(of: ":") else { return text }
        return String(text[..<colon])
    }
}

/// Refuses `/v1` routes (and `/metrics`) without credentials when tokens are configured.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = HarkRequestContext
    let gatekeeper: Gatekeeper

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = gatekeeper.refusal(request, remote: context.remote) { throw refusal }
        return try await next(request, context)
    }
}

/// `POST /v1/session` (a token, as JSON `{"token"}` or a Bearer header → a session cookie) and
/// `DELETE /v1/session`. Open routes: they are how a browser gets in.
struct SessionController: Sendable {
    let gatekeeper: Gatekeeper

    struct Login: Decodable { var token: String }

    func login(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        var token = request.headers[.authorization].flatMap(Gatekeeper.bearerToken)
        if token == nil {
            let body = try await request.body.collect(upTo: 4096)
            token = (try? JSONDecoder().decode(Login.self, from: Data(body.readableBytesView)))?.token
        }
        guard let token else { throw HTTPError(.badRequest, message: "post {\"token\": \"…\"} or send Authorization: Bearer TOKEN") }
        switch gatekeeper.login(token: token, remote: context.remote) {
        case .success(let cookie): return Response(status: .noContent, headers: [.setCookie: cookie])
        case .failure(let error): throw error
        }
    }

    /// `GET /v1/session`: whether this server wants a token and whether the caller has a session
    /// (the dashboard asks before it connects, so it never meets a refusal it did not expect).
    func state(_ request: Request, _ context: HarkRequestContext) throws -> Response {
        struct State: Encodable { var required: Bool; var signedIn: Bool
            enum CodingKeys: String, CodingKey { case required, signedIn = "signed_in" } }
        let signedIn = gatekeeper.enabled && gatekeeper.refusal(request, remote: context.remote) == nil
        return try JSONResponse.make(State(required: gatekeeper.enabled, signedIn: signedIn))
    }

    func logout(_ request: Request, _ context: HarkRequestContext) throws -> Response {
        Response(status: .noContent, headers: [.setCookie: gatekeeper.logout(request)])
    }
}
