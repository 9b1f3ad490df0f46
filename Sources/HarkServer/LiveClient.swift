import Dispatch
import HarkLiveProtocol
import NIOCore
import NIOWebSocket
import Synchronization

/// One live-socket client's outbox: two bounded lanes and what it asked for.
///
/// - Events: kept in order, up to `ServerSettings.clientEventBuffer`; a client whose oldest event
///   waits longer than `clientEventTimeoutSeconds`, or whose lane overflows, is closed with a
///   reason and counted — an event is never dropped silently.
/// - Telemetry (window, spectrogram, waveform, maps, status): newest wins; the oldest message is
///   dropped when the lane is full, and counted in `droppedTelemetry`.
///
/// Threads: the broadcaster's threads enqueue; the client's socket task takes (`next()`); the
/// server's ticker checks for stalls. All state sits behind one mutex.
final class LiveClient: Sendable {
    enum Outgoing: Sendable, Equatable {
        /// A JSON text message, encoded once and shared by every client it goes to.
        case text(ByteBuffer)
        case close(WebSocketErrorCode, String)
    }

    /// What `GET /v1/status` shows of a client.
    struct Counters: Sendable, Encodable {
        var id: Int
        var remote: String
        var kinds: [String]
        var layers: [String]
        var sent: Int
        var droppedTelemetry: Int
        var skippedByRate: Int
        var queuedEvents: Int
        var queuedTelemetry: Int

        enum CodingKeys: String, CodingKey {
            case id, remote, kinds, layers, sent, droppedTelemetry = "dropped_telemetry", skippedByRate = "skipped_by_rate"
            case queuedEvents = "queued_events", queuedTelemetry = "queued_telemetry"
        }
    }

    let id: Int
    let remote: String
    private let telemetryCapacity: Int
    private let eventCapacity: Int
    /// Closes the connection under a write that does not return (a client that stopped reading).
    private let forceClose: @Sendable () -> Void

    private typealias Waiter = CheckedContinuation<Outgoing?, Never>

    private struct State {
        var request: LiveSubscriptionRequest
        var events: [(text: ByteBuffer, at: UInt64)] = []
        var telemetry: [ByteBuffer] = []
        var droppedTelemetry = 0
        var skippedByRate = 0
        var sent = 0
        var lastTelemetryEnd: Double?
        /// The close asked for, and whether the socket task has taken it.
        var closeRequest: Outgoing?
        var closeTaken = false
        var forced = false
        var waiter: Waiter?
        /// Uptime when the write in progress began.
        var writingSince: UInt64?

        /// What the socket task gets next: `.some(nil)` once it has taken the close, `nil` while
        /// there is nothing to send yet.
        mutating func dequeue() -> Outgoing?? {
            if !events.isEmpty { return .some(.text(events.removeFirst().text)) }
            if !telemetry.isEmpty { return .some(.text(telemetry.removeFirst())) }
            if closeTaken { return .some(nil) }
            if let closeRequest {
                closeTaken = true
                return .some(closeRequest)
            }
            return nil
        }

        /// The waiting socket task and its item, when something arrived for it.
        mutating func wake() -> (Waiter, Outgoing?)? {
            guard let w = waiter, let item = dequeue() else { return nil }
            waiter = nil
            return (w, item)
        }
    }
    private let state: Mutex<State>

    init(id: Int, remote: String, request: LiveSubscriptionRequest, telemetryCapacity: Int, eventCapacity: Int,
         forceClose: @escaping @Sendable () -> Void) {
        self.id = id
        self.remote = remote
        self.telemetryCapacity = max(1, telemetryCapacity)
        self.eventCapacity = max(1, eventCapacity)
        self.forceClose = forceClose
        state = Mutex(State(request: request))
    }

    var request: LiveSubscriptionRequest {
        get { state.withLock { $0.request } }
        set { state.withLock { $0.request = newValue } }
    }

    func wants(_ kind: LiveSubscriptionRequest.Kind) -> Bool { state.withLock { $0.request.kinds.contains(kind) } }

    var counters: Counters {
        state.withLock { s in
            Counters(id: id, remote: remote, kinds: s.request.kinds.map(\.rawValue).sorted(), layers: s.request.layers.sorted(),
                     sent: s.sent, droppedTelemetry: s.droppedTelemetry, skippedByRate: s.skippedByRate,
                     queuedEvents: s.events.count, queuedTelemetry: s.telemetry.count)
        }
    }

    var droppedTelemetry: Int { state.withLock { $0.droppedTelemetry } }

    /// Queues an event. False when the lane is full: the caller closes the client.
    func enqueueEvent(_ text: ByteBuffer) -> Bool {
        let (accepted, wake) = state.withLock { s -> (Bool, (Waiter, Outgoing?)?) in
            guard s.closeRequest == nil else { return (true, nil) }
            guard s.events.count < eventCapacity else { return (false, nil) }
            s.events.append((text, DispatchTime.now().uptimeNanoseconds))
            return (true, s.wake())
        }
        if let (continuation, item) = wake { continuation.resume(returning: item) }
        return accepted
    }

    /// Whether a window ending at `end` (stream seconds) is due under the client's `max_rate`;
    /// counts the ones skipped.
    func takesTelemetry(windowEnd end: Double) -> Bool {
        state.withLock { s in
            guard s.closeRequest == nil else { return false }
            if let rate = s.request.maxRate, let last = s.lastTelemetryEnd, end - last < 1 / rate - 1e-6 {
                s.skippedByRate += 1
                return false
            }
            s.lastTelemetryEnd = end
            return true
        }
    }

    /// Queues telemetry messages; the oldest are dropped (counted) when the lane is full.
    func enqueueTelemetry(_ texts: [ByteBuffer]) {
        guard !texts.isEmpty else { return }
        let wake = state.withLock { s -> (Waiter, Outgoing?)? in
            guard s.closeRequest == nil else { return nil }
            s.telemetry += texts
            let excess = s.telemetry.count - telemetryCapacity
            if excess > 0 {
                s.telemetry.removeFirst(excess)
                s.droppedTelemetry += excess
            }
            return s.wake()
        }
        if let (continuation, item) = wake { continuation.resume(returning: item) }
    }

    /// The next message to write: events before telemetry; after a close request, the pending
    /// events (when they are to be delivered) and then the close; nil once the close was taken.
    func next() async -> Outgoing? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Waiter) in
                let ready = state.withLock { s -> Outgoing?? in
                    if let item = s.dequeue() { return item }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            // The socket task is going away: wake it with the close, then nothing.
            close(.goingAway, reason: "closing", deliverPending: false)
        }
    }

    /// Marks the start and the end of a socket write (to find clients that stopped reading).
    func writing(_ started: Bool) {
        state.withLock { s in
            s.writingSince = started ? DispatchTime.now().uptimeNanoseconds : nil
            if !started { s.sent += 1 }
        }
    }

    /// Asks the socket task to close with `code` and `reason`. With `deliverPending`, the events
    /// already queued go out first (a shutdown); otherwise they are abandoned (a stalled client).
    func close(_ code: WebSocketErrorCode, reason: String, deliverPending: Bool) {
        let wake = state.withLock { s -> (Waiter, Outgoing?)? in
            guard s.closeRequest == nil else { return nil }
            s.closeRequest = .close(code, reason)
            s.telemetry = []
            if !deliverPending { s.events = [] }
            return s.wake()
        }
        if let (continuation, item) = wake { continuation.resume(returning: item) }
    }

    /// Why the client is stalled, if it is: its oldest event waited longer than `eventTimeout`, or
    /// one write has not returned for `writeTimeout` seconds.
    func stall(eventTimeout: Double, writeTimeout: Double) -> String? {
        let now = DispatchTime.now().uptimeNanoseconds
        return state.withLock { s in
            guard s.closeRequest == nil else { return nil }
            if let oldest = s.events.first, Double(now - min(oldest.at, now)) / 1e9 > eventTimeout {
                return "events not taken for \(Int(eventTimeout)) s"
            }
            if let since = s.writingSince, Double(now - min(since, now)) / 1e9 > writeTimeout {
                return "not reading for \(Int(writeTimeout)) s"
            }
            return nil
        }
    }

    /// Closes the connection itself when the socket task could not deliver the close because it is
    /// stuck in a write (a client that stopped reading).
    func forceCloseIfStuck() {
        let stuck = state.withLock { s -> Bool in
            guard s.closeRequest != nil, s.writingSince != nil, !s.forced else { return false }
            s.forced = true
            return true
        }
        if stuck { forceClose() }
    }
}
