import Foundation
import HarkConfig
import HarkLiveProtocol
import HarkStream
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// `GET /v1/live`: the live stream over a WebSocket. The upgrade is refused before it happens
/// (`.dontUpgrade`) when the page's Origin is not allowed, the subscription in the query string is
/// invalid, the server is full or shutting down; the plain-HTTP route then answers with the reason.
struct LiveSocketController: Sendable {
    let broadcaster: LiveBroadcaster
    let settings: ServerSettings
    let gatekeeper: Gatekeeper
    /// SO_SNDBUF of a live connection (Linux doubles it): room for a few seconds of every layer.
    static let sendBufferBytes: ChannelOptions.Types.SocketOption.Value = 128 * 1024

    /// Who may connect with what, or why not: credentials (when tokens are set), Origin, the
    /// subscription, the client limit.
    func admission(_ request: Request, remote: String) -> Result<LiveSubscriptionRequest, HTTPError> {
        if let refusal = gatekeeper.refusal(request, remote: remote) { return .failure(refusal) }
        if let origin = request.headers[.origin], !originAllowed(origin, host: request.head.authority) {
            return .failure(HTTPError(.forbidden, message: "origin \(origin) may not open the live socket; allow it with --allow-origin"))
        }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let subscription: LiveSubscriptionRequest
        do {
            subscription = try LiveSubscriptionRequest(query: query, layers: broadcaster.info.exposedLayers)
        } catch {
            return .failure(HTTPError(.badRequest, message: error.description))
        }
        guard broadcaster.clientCount < settings.maxClients else {
            return .failure(HTTPError(.serviceUnavailable, message: "too many live clients (\(settings.maxClients))"))
        }
        return .success(subscription)
    }

    /// A browser page may connect from the server's own origin (as it was served) or an allowed
    /// one. Browsers always send their page's http(s) origin (or "null"), which a page cannot
    /// forge; programs send none, or one of their own (`ws://…`), and are not what the check is for.
    func originAllowed(_ origin: String, host: String?) -> Bool {
        let o = origin.lowercased()
        guard o.hasPrefix("http://") || o.hasPrefix("https://") || o == "null" else { return true }
        if settings.allowedOrigins.contains(where: { $0.lowercased() == o || $0 == "*" }) { return true }
        guard let host = host?.lowercased() else { return false }
        return o == "http://\(host)" || o == "https://\(host)"
    }

    /// Refuses before upgrading. The WebSocket layer then answers 400; the reason goes to the log
    /// (and a plain GET of the same URL answers it).
    func shouldUpgrade(_ request: Request, _ context: HarkRequestContext) -> RouterShouldUpgrade {
        switch admission(request, remote: context.remote) {
        case .success: return .upgrade([:])
        case .failure(let error):
            context.logger.warning("refused a live-socket upgrade", metadata: [
                "remote": "\(context.remote)", "status": "\(error.status.code)", "reason": "\(error.body ?? "")"])
            return .dontUpgrade
        }
    }

    /// Where a refused upgrade (or a plain GET) lands: the reason, or 426 for a request that is no upgrade.
    func refused(_ request: Request, _ context: HarkRequestContext) throws -> Response {
        if case .failure(let error) = admission(request, remote: context.remote) { throw error }
        throw HTTPError(.upgradeRequired, message: "/v1/live is a WebSocket; connect with a WebSocket client")
    }

    /// The connection: a hello, then the client's subscription messages are read while its outbox
    /// is written, until either side closes.
    func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
                context: WebSocketRouterContext<HarkRequestContext>) async throws {
        defer { context.requestContext.releaseWebSocketHandler() }
        guard case .success(let subscription) = admission(context.request, remote: context.requestContext.remote) else { return }
        let channel = context.requestContext.channel
        // A bounded kernel send buffer: a client that stops reading stalls its own writes after a
        // few hundred kilobytes (and is then dropped from, counted), instead of parking megabytes
        // of telemetry in the kernel per connection.
        _ = try? await channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: Self.sendBufferBytes).get()
        guard let client = broadcaster.connect(remote: context.requestContext.remote, request: subscription,
                                               forceClose: { channel.close(promise: nil) }) else {
            try await outbound.close(.goingAway, reason: "hark is shutting down")
            return
        }
        defer { broadcaster.disconnect(client) }
        let info = broadcaster.info
        let hello = LiveSocketWire.Hello(clientID: client.id, model: broadcaster.modelName, sampleRate: info.sampleRate,
                                         windowSeconds: info.windowSeconds, hopSeconds: info.hopSeconds, labels: info.labels,
                                         layers: info.exposedLayers, subscription: subscription.echo)
        try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: LiveSocketWire.frame(hello))))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Subscription messages, each at most `maxInboundMessageBytes`.
                for try await message in inbound.messages(maxSize: settings.maxInboundMessageBytes) {
                    guard case .text(let body) = message,
                          let decoded = try? JSONDecoder().decode(LiveSubscriptionRequest.Message.self, from: Data(body.utf8)) else {
                        _ = client.enqueueEvent(LiveSocketWire.frame(LiveSocketWire.Failure(message: "send JSON: {\"type\":\"subscribe\",\"kinds\":[…],\"layers\":[…],\"max_rate\":…}")))
                        continue
                    }
                    var request = client.request
                    do throws(LiveSubscriptionRequest.Invalid) {
                        try request.apply(decoded, layers: info.exposedLayers)
                        broadcaster.change(client, to: request)
                        _ = client.enqueueEvent(LiveSocketWire.frame(LiveSocketWire.Subscribed(subscription: request.echo)))
                    } catch {
                        _ = client.enqueueEvent(LiveSocketWire.frame(LiveSocketWire.Failure(message: error.description)))
                    }
                }
                // The client closed its side: nothing more will be read, so stop writing too.
                client.close(.normalClosure, reason: "closed by the client", deliverPending: false)
            }
            while let item = await client.next() {
                switch item {
                case .text(let message):
                    client.writing(true)
                    defer { client.writing(false) }
                    try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: message)))
                case .close(let code, let reason):
                    try await outbound.close(code, reason: reason)
                }
            }
            group.cancelAll()
        }
    }
}
