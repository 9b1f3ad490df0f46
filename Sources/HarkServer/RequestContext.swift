import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Synchronization

/// The request context of `hark serve`'s routes: Hummingbird's basics, the WebSocket handler slot,
/// and the connection's channel (to know the peer, and to close a client that stopped reading).
struct HarkRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    private let webSocketSlot = WebSocketSlot()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// hummingbird-websocket (2.8.1) keeps the upgraded route's handler and a copy of this context
    /// in a box that this context itself holds: a cycle that kept every WebSocket connection's
    /// context, channel and buffers alive after it closed (~5.5 KB each; found by the soak run).
    /// The box lives in a slot that `releaseWebSocketHandler()` empties when the connection ends.
    var webSocket: WebSocketHandlerReference<Self> { webSocketSlot.reference }

    /// Breaks the cycle above; call once the WebSocket handler is done.
    func releaseWebSocketHandler() { webSocketSlot.release() }

    private final class WebSocketSlot: Sendable {
        private let slot = Mutex<WebSocketHandlerReference<HarkRequestContext>?>(.init())

        var reference: WebSocketHandlerReference<HarkRequestContext> { slot.withLock { $0 ?? .init() } }
        func release() { slot.withLock { $0 = nil } }
    }

    var remote: String { channel.remoteAddress?.description ?? "unknown" }
}
