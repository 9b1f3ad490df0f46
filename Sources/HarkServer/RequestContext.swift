import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of `hark serve`'s routes: Hummingbird's basics, the WebSocket handler slot,
/// and the connection's channel (to know the peer, and to close a client that stopped reading).
struct HarkRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }

    var remote: String { channel.remoteAddress?.description ?? "unknown" }
}
