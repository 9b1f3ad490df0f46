import Foundation
import HarkConfig
import HarkLiveProtocol
import HarkStream
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// Fans the pipeline's output out to the live-socket clients, without ever holding the pipeline
/// back for one of them.
///
/// Two hub subscriptions, each read by a thread of its own:
/// - events and status, *lossless* (events are never dropped): each event is encoded once and
///   queued to every client that wants events; a client that cannot keep up is closed (counted);
/// - windows, *newest wins* (telemetry): each window's messages are encoded once, lazily, and
///   queued to the clients that asked for them, under each client's rate limit.
/// The hub computes for a window only what the clients currently want (the union of their layers).
final class LiveBroadcaster: Sendable {
    let info: LiveStreamInfo
    let modelName: String
    private let pipeline: LivePipeline
    private let settings: ServerSettings
    private let logger: Logger
    private let events: LiveSubscription
    private let telemetry: LiveSubscription
    private let threadsDone = DispatchGroup()

    private struct State {
        var clients: [Int: LiveClient] = [:]
        var nextID = 1
        var closedSlow = 0
        /// Telemetry dropped for clients that have gone (the live ones count their own).
        var droppedByGoneClients = 0
        var capture = LiveSocketWire.CaptureState(state: "starting")
        var shuttingDown = false
    }
    private let state = Mutex(State())

    init(pipeline: LivePipeline, modelName: String, settings: ServerSettings, logger: Logger) {
        self.pipeline = pipeline
        self.info = pipeline.info
        self.modelName = modelName
        self.settings = settings
        self.logger = logger
        events = pipeline.hub.subscribe(Interest(), delivery: .lossless, capacity: 1024)
        telemetry = pipeline.hub.subscribe(Interest(eventsAndStatus: false), delivery: .newestWins, capacity: 2)
    }

    /// Starts the two fan-out threads; they end when the pipeline has finished and all is sent on.
    func start() {
        let encoder = LiveSocketWire.encoder()
        threadsDone.enter()
        Thread.detachNewThread { [self] in
            defer { threadsDone.leave() }
            while let item = events.next() {
                switch item {
                case .event(let event): fanOut(event, encoder: encoder)
                case .status(let status): noteStatus(status)
                case .window: break
                }
            }
        }
        threadsDone.enter()
        Thread.detachNewThread { [self] in
            defer { threadsDone.leave() }
            let encoder = LiveSocketWire.encoder()
            while let item = telemetry.next() {
                guard case .window(let result) = item else { continue }
                let encoded = EncodedWindow(result, info: info, encoder: encoder)
                for client in clients() where client.takesTelemetry(windowEnd: result.end) {
                    client.enqueueTelemetry(encoded.messages(for: client.request))
                }
            }
        }
    }

    /// After the pipeline has finished: waits (bounded) until both threads have handed everything
    /// on, then asks every client to close with "going away" once its pending events are out.
    func finish(timeout: Double) {
        _ = threadsDone.wait(timeout: .now() + timeout)
        let all = state.withLock { s -> [LiveClient] in
            s.shuttingDown = true
            return Array(s.clients.values)
        }
        for client in all { client.close(.goingAway, reason: "hark is shutting down", deliverPending: true) }
    }

    /// Clients still connected.
    var clientCount: Int { state.withLock { $0.clients.count } }

    // MARK: clients

    /// A new client, or nil when the server is shutting down.
    func connect(remote: String, request: LiveSubscriptionRequest, forceClose: @escaping @Sendable () -> Void) -> LiveClient? {
        let client = state.withLock { s -> LiveClient? in
            guard !s.shuttingDown else { return nil }
            let client = LiveClient(id: s.nextID, remote: remote, request: request,
                                    telemetryCapacity: settings.clientTelemetryBuffer, eventCapacity: settings.clientEventBuffer,
                                    forceClose: forceClose)
            s.nextID += 1
            s.clients[client.id] = client
            return client
        }
        updateInterest()
        return client
    }

    func disconnect(_ client: LiveClient) {
        state.withLock { s in
            if s.clients.removeValue(forKey: client.id) != nil { s.droppedByGoneClients += client.droppedTelemetry }
        }
        updateInterest()
    }

    /// Telemetry messages dropped for all clients since the start (for /metrics).
    var droppedTelemetryTotal: Int {
        let (gone, live) = state.withLock { ($0.droppedByGoneClients, Array($0.clients.values)) }
        return gone + live.reduce(0) { $0 + $1.droppedTelemetry }
    }

    func change(_ client: LiveClient, to request: LiveSubscriptionRequest) {
        client.request = request
        updateInterest()
    }

    private func clients() -> [LiveClient] { state.withLock { Array($0.clients.values) } }

    /// The window subscription computes what the clients want, and nothing when nobody watches.
    private func updateInterest() {
        let union = clients().reduce(Interest(eventsAndStatus: false)) { $0.union($1.request.interest) }
        telemetry.interest = Interest(eventsAndStatus: false, windows: union.windows, layers: union.layers,
                                      logMel: union.logMel, audio: union.audio)
    }

    // MARK: events and status

    private func fanOut(_ event: EventMessage, encoder: JSONEncoder) {
        let text = LiveSocketWire.frame(event, encoder: encoder)
        for client in clients() where client.wants(.event) {
            if !client.enqueueEvent(text) {
                closeSlow(client, reason: "event buffer full (\(settings.clientEventBuffer) events)")
            }
        }
    }

    private func noteStatus(_ status: StatusMessage) {
        state.withLock { s in
            switch status.status {
            case .captureStarted, .captureRecovered:
                s.capture = .init(state: "running", source: status.source, sampleRate: status.sampleRate)
            case .captureLost: s.capture.state = "lost"
            case .streamEnded, .stopped: s.capture.state = "ended"
            case .windowsDropped, .overruns, .mqttConnected, .mqttLost, .mqttDropped: break
            }
        }
        sendStatus(notice: status)
    }

    /// A status message to every client that asked for status (`notice`: the pipeline line that prompted it).
    func sendStatus(notice: StatusMessage? = nil) {
        let encoder = LiveSocketWire.encoder()
        let summary = pipeline.summary
        let (capture, server) = state.withLock { s in
            (s.capture, LiveSocketWire.ServerCounters(clients: s.clients.count, clientsClosedSlow: s.closedSlow,
                                                      windowsSkipped: telemetry.droppedCount))
        }
        for client in clients() where client.wants(.status) {
            let message = LiveSocketWire.Status(wallTime: WallClock.now(), capture: capture, counters: summary, server: server,
                                                client: client.counters, notice: notice)
            client.enqueueTelemetry([LiveSocketWire.frame(message, encoder: encoder)])
        }
    }

    /// Every status interval: status to the clients, and clients that stopped taking their messages
    /// closed (those stuck in a write are closed at the socket).
    func tick() {
        for client in clients() {
            client.forceCloseIfStuck()
            if let why = client.stall(eventTimeout: settings.clientEventTimeoutSeconds,
                                      writeTimeout: max(settings.clientEventTimeoutSeconds, 2 * settings.heartbeatSeconds)) {
                closeSlow(client, reason: why)
            }
        }
        sendStatus()
    }

    private func closeSlow(_ client: LiveClient, reason: String) {
        state.withLock { $0.closedSlow += 1 }
        logger.warning("closing a live client that cannot keep up", metadata: ["client": "\(client.id)", "remote": "\(client.remote)",
                                                                               "reason": "\(reason)"])
        client.close(.policyViolation, reason: reason, deliverPending: false)
    }

    /// What `GET /v1/status` shows of the live socket.
    struct Report: Encodable, Sendable {
        var capture: LiveSocketWire.CaptureState
        var server: LiveSocketWire.ServerCounters
        var clients: [LiveClient.Counters]
    }

    var report: Report {
        let all = clients()
        return state.withLock { s in
            Report(capture: s.capture,
                   server: .init(clients: s.clients.count, clientsClosedSlow: s.closedSlow, windowsSkipped: telemetry.droppedCount),
                   clients: all.map(\.counters).sorted { $0.id < $1.id })
        }
    }
}
