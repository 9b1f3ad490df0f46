import CMosquitto
import Foundation
import HarkConfig
import HarkEngine
import HarkStream
import Synchronization

/// Publishes the live run to an MQTT broker through libmosquitto:
///
///     PREFIX/NODE/event          every event line, exactly the stdout object (QoS `qos`)
///     PREFIX/NODE/state/LABEL    ON / OFF, retained (QoS `qos`)
///     PREFIX/NODE/status         online / offline, retained; offline is the Last Will
///     PREFIX/NODE/level          the window's dBFS, at most every `level_interval_seconds` (QoS 0; optional)
///     DISCOVERY/binary_sensor/NODE/LABEL/config, DISCOVERY/sensor/NODE/level/config   (Home Assistant, optional)
///
/// A broker that is down never touches capture: a lossless hub subscription is moved at once into a
/// bounded outbox (events kept up to `outbox_events`; the level dropped first, then the oldest
/// event, both counted and said as `mqtt_dropped`); libmosquitto reconnects with back-off (1 s
/// doubling to 30 s); events sent but not acknowledged (QoS ≥ 1) are sent again after a reconnect
/// — at least once, so subscribers may see a line twice (the event `id` tells).
///
/// Threads: the subscription's reader, libmosquitto's network thread (its callbacks), and the
/// caller of `stop`. State is behind one mutex, never held while calling libmosquitto.
public final class MQTTPublisher: @unchecked Sendable {
    // @unchecked: `handle` is set once in `start` before any callback can run and then only read;
    // everything else mutable sits in `state`.
    private let settings: MQTTSettings
    private let url: String
    private let node: String
    private let prefix: String
    private let labels: [ModelCard.Label]
    private let modelName: String
    private let version: String
    private let pipeline: LivePipeline
    private let subscription: LiveSubscription
    private var handle: OpaquePointer?
    private let done = DispatchSemaphore(value: 0)

    private struct Entry {
        var topic: String
        var payload: [UInt8]
        var qos: Int32
        var retain: Bool
        var isEvent: Bool
    }

    private struct State {
        var queue: [Entry] = []
        var inflight: [Int32: Entry] = [:]
        var earlyAcks: Set<Int32> = []
        var connected = false
        var everConnected = false
        var stopping = false
        var pumping = false
        var pumpAgain = false
        var on: Set<String> = []
        var lastLevel = -Double.infinity
        var published = 0
        var droppedEvents = 0
        var droppedTelemetry = 0
        var droppedReported = 0
        var lastDropReport: Date = .distantPast
        var eventCount: Int { queue.filter(\.isEvent).count + inflight.values.filter(\.isEvent).count }
    }
    private let state = Mutex(State())

    private static let libraryReady: Bool = { mosquitto_lib_init() == MOSQ_ERR_SUCCESS.rawValue }()

    /// What the publisher has done so far (for `/v1/status` and `/metrics`).
    public struct Counters: Sendable, Encodable {
        public var connected: Bool
        public var published: Int
        public var queued: Int
        public var droppedEvents: Int
        public var droppedTelemetry: Int
        enum CodingKeys: String, CodingKey {
            case connected, published, queued, droppedEvents = "dropped_events", droppedTelemetry = "dropped_telemetry"
        }
    }

    /// `watched`: the labels that may raise events (a state topic and a sensor each).
    public init(settings: MQTTSettings, pipeline: LivePipeline, watched: [ModelCard.Label], modelName: String, version: String) throws {
        guard let url = settings.url, settings.broker != nil else { throw ConfigurationError.invalid("mqtt: no broker url") }
        self.settings = settings
        self.url = url
        node = settings.resolvedNode
        prefix = "\(settings.topicPrefix)/\(node)"
        labels = watched
        self.modelName = modelName
        self.version = version
        self.pipeline = pipeline
        subscription = pipeline.hub.subscribe(Interest(windows: settings.level), delivery: .lossless, capacity: 4096)
    }

    public var counters: Counters {
        state.withLock { s in
            Counters(connected: s.connected, published: s.published, queued: s.queue.count + s.inflight.count,
                     droppedEvents: s.droppedEvents, droppedTelemetry: s.droppedTelemetry)
        }
    }

    // MARK: starting and stopping

    /// Connects (in the background: a broker that is down is retried) and starts publishing.
    public func start() throws {
        guard Self.libraryReady, let broker = settings.broker else { throw ConfigurationError.invalid("mqtt: libmosquitto failed to start") }
        let clientID = settings.clientID ?? "hark-\(node)"
        guard let mosq = mosquitto_new(clientID, true, Unmanaged.passUnretained(self).toOpaque()) else {
            throw ConfigurationError.invalid("mqtt: could not make a client")
        }
        handle = mosq
        let will = Array("offline".utf8)
        _ = mosquitto_will_set(mosq, "\(prefix)/status", Int32(will.count), will, Int32(settings.qos), true)
        if let user = settings.username { _ = mosquitto_username_pw_set(mosq, user, settings.password) }
        if broker.tls {
            let rc = mosquitto_tls_set(mosq, settings.caFile ?? "/etc/ssl/certs/ca-certificates.crt", nil,
                                       settings.certFile, settings.keyFile, nil)
            guard rc == MOSQ_ERR_SUCCESS.rawValue else {
                throw ConfigurationError.invalid("mqtt: TLS set-up failed: \(String(cString: mosquitto_strerror(rc)))")
            }
        }
        _ = mosquitto_reconnect_delay_set(mosq, 1, 30, true)
        mosquitto_connect_callback_set(mosq) { _, object, rc in
            guard let object else { return }
            Unmanaged<MQTTPublisher>.fromOpaque(object).takeUnretainedValue().didConnect(rc)
        }
        mosquitto_disconnect_callback_set(mosq) { _, object, rc in
            guard let object else { return }
            Unmanaged<MQTTPublisher>.fromOpaque(object).takeUnretainedValue().didDisconnect(rc)
        }
        mosquitto_publish_callback_set(mosq) { _, object, mid in
            guard let object else { return }
            Unmanaged<MQTTPublisher>.fromOpaque(object).takeUnretainedValue().acknowledged(mid)
        }
        let started = mosquitto_connect_async(mosq, broker.host, Int32(broker.port), Int32(settings.keepaliveSeconds))
        guard mosquitto_loop_start(mosq) == MOSQ_ERR_SUCCESS.rawValue else {
            throw ConfigurationError.invalid("mqtt: could not start the network thread")
        }
        // libmosquitto's thread reconnects a connection it once had; a broker that is down at start
        // is retried here, with the same back-off, until the first connection.
        Thread.detachNewThread { [self] in retryFirstConnection(firstAttemptStarted: started == MOSQ_ERR_SUCCESS.rawValue) }
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            while let item = subscription.next() { take(item) }
        }
    }

    private func retryFirstConnection(firstAttemptStarted: Bool) {
        guard let broker = settings.broker else { return }
        var delay = 1.0, waited = !firstAttemptStarted
        while state.withLock({ !$0.everConnected && !$0.stopping }) {
            Thread.sleep(forTimeInterval: delay)
            if state.withLock({ $0.everConnected || $0.stopping }) { return }
            // An attempt that was started gets one delay to finish before the next.
            if waited, let mosq = handle {
                _ = mosquitto_connect_async(mosq, broker.host, Int32(broker.port), Int32(settings.keepaliveSeconds))
            }
            waited = true
            delay = min(delay * 2, 30)
        }
    }

    /// After the pipeline ended: sends what is left (waiting at most `timeout`), says offline and
    /// disconnects cleanly (so the broker does not need the Last Will).
    public func stop(timeout: Double) {
        _ = done.wait(timeout: .now() + timeout / 2)
        state.withLock { $0.stopping = true }
        enqueue(Entry(topic: "\(prefix)/status", payload: Array("offline".utf8), qos: Int32(settings.qos), retain: true, isEvent: false),
                front: false)
        pump()
        let deadline = Date().addingTimeInterval(timeout / 2)
        while Date() < deadline, state.withLock({ $0.connected && !($0.queue.isEmpty && $0.inflight.isEmpty) }) {
            usleep(10_000)
        }
        guard let mosq = handle else { return }
        _ = mosquitto_disconnect(mosq)
        _ = mosquitto_loop_stop(mosq, false)
        mosquitto_destroy(mosq)
        handle = nil
    }

    // MARK: the pipeline's items

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    private func take(_ item: LiveOutput) {
        switch item {
        case .event(let e):
            guard let line = try? Self.encoder.encode(e) else { return }
            enqueue(Entry(topic: "\(prefix)/event", payload: Array(line), qos: Int32(settings.qos), retain: false, isEvent: true))
            if e.phase == .start || e.phase == .end {
                let on = e.phase == .start
                state.withLock { s in if on { s.on.insert(e.label) } else { s.on.remove(e.label) } }
                enqueue(stateEntry(e.label, on: on))
            }
        case .window(let w) where settings.level && w.rmsDBFS.isFinite:
            let due = state.withLock { s -> Bool in
                guard w.end - s.lastLevel >= settings.levelIntervalSeconds else { return false }
                s.lastLevel = w.end
                return true
            }
            if due {
                enqueue(Entry(topic: "\(prefix)/level", payload: Array(String(format: "%.1f", w.rmsDBFS).utf8), qos: 0,
                              retain: false, isEvent: false))
            }
        default:
            return
        }
        pump()
    }

    private func stateEntry(_ label: String, on: Bool) -> Entry {
        Entry(topic: "\(prefix)/state/\(label)", payload: Array((on ? "ON" : "OFF").utf8), qos: Int32(settings.qos),
              retain: true, isEvent: true)
    }

    /// Adds to the outbox, making room within `outbox_events`: the level first, then the oldest event.
    private func enqueue(_ entry: Entry, front: Bool = false) {
        let report = state.withLock { s -> (Int, Int)? in
            if entry.isEvent, s.eventCount >= settings.outboxEvents {
                if let i = s.queue.firstIndex(where: { !$0.isEvent && $0.qos == 0 }) {
                    s.queue.remove(at: i)
                    s.droppedTelemetry += 1
                } else if let i = s.queue.firstIndex(where: \.isEvent) {
                    s.queue.remove(at: i)
                    s.droppedEvents += 1
                }
            } else if !entry.isEvent, entry.qos == 0, s.queue.count >= settings.outboxEvents {
                s.droppedTelemetry += 1
                return nil
            }
            if front { s.queue.insert(entry, at: 0) } else { s.queue.append(entry) }
            let dropped = s.droppedEvents + s.droppedTelemetry
            guard dropped > s.droppedReported, Date().timeIntervalSince(s.lastDropReport) >= 1 else { return nil }
            defer {
                s.droppedReported = dropped
                s.lastDropReport = Date()
            }
            return (dropped - s.droppedReported, dropped)
        }
        if let (count, total) = report {
            pipeline.note(StatusMessage(.mqttDropped, wallTime: WallClock.now(),
                                        message: "the MQTT outbox was full: level readings, then the oldest events, were dropped",
                                        source: url, count: count, total: total))
        }
    }

    /// Publishes what waits, in order, while connected. One thread pumps at a time; another that
    /// asks meanwhile makes it go round once more.
    private func pump() {
        let mine = state.withLock { s -> Bool in
            if s.pumping { s.pumpAgain = true; return false }
            s.pumping = true
            return true
        }
        guard mine, let mosq = handle else {
            if mine { state.withLock { $0.pumping = false } }
            return
        }
        while true {
            let next = state.withLock { s -> Entry? in
                guard s.connected, !s.queue.isEmpty else { return nil }
                return s.queue.removeFirst()
            }
            guard let entry = next else {
                let again = state.withLock { s -> Bool in
                    defer { s.pumpAgain = false }
                    if s.pumpAgain && s.connected && !s.queue.isEmpty { return true }
                    s.pumping = false
                    return false
                }
                if again { continue }
                return
            }
            var mid: Int32 = 0
            let rc = entry.payload.withUnsafeBufferPointer {
                mosquitto_publish(mosq, &mid, entry.topic, Int32($0.count), $0.baseAddress, entry.qos, entry.retain)
            }
            state.withLock { s in
                if rc != MOSQ_ERR_SUCCESS.rawValue {
                    s.queue.insert(entry, at: 0)   // not connected after all: keep it first
                    s.connected = false
                } else if entry.qos == 0 || s.earlyAcks.remove(mid) != nil {
                    s.published += 1
                } else {
                    s.inflight[mid] = entry
                }
            }
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                state.withLock { $0.pumping = false }
                return
            }
        }
    }

    // MARK: libmosquitto's callbacks (its network thread)

    private func didConnect(_ rc: Int32) {
        guard rc == 0 else { return }
        var greeting = [Entry(topic: "\(prefix)/status", payload: Array("online".utf8), qos: Int32(settings.qos), retain: true, isEvent: false)]
        if settings.discovery { greeting += discovery() }
        let on = state.withLock { $0.on }
        greeting += labels.map { stateEntry($0.name, on: on.contains($0.name)) }
        let first = state.withLock { s -> Bool in
            // What was sent but not acknowledged goes again, before anything newer.
            let unacknowledged = s.inflight.sorted { $0.key < $1.key }.map(\.value)
            s.inflight = [:]
            s.earlyAcks = []
            s.queue = greeting + unacknowledged + s.queue.filter { !($0.topic.hasPrefix("\(prefix)/state/") && $0.retain) }
            s.connected = true
            defer { s.everConnected = true }
            return !s.everConnected
        }
        pipeline.note(StatusMessage(.mqttConnected, wallTime: WallClock.now(),
                                    message: first ? "connected to the MQTT broker" : "reconnected to the MQTT broker",
                                    source: url))
        pump()
    }

    private func didDisconnect(_ rc: Int32) {
        let wasConnected = state.withLock { s -> Bool in
            defer { s.connected = false }
            return s.connected
        }
        guard wasConnected, rc != 0 else { return }   // 0: our own clean disconnect
        pipeline.note(StatusMessage(.mqttLost, wallTime: WallClock.now(),
                                    message: "lost the MQTT broker (\(String(cString: mosquitto_strerror(rc)))); events wait in the outbox",
                                    source: url, retryInSeconds: 1))
    }

    private func acknowledged(_ mid: Int32) {
        state.withLock { s in
            if s.inflight.removeValue(forKey: mid) != nil {
                s.published += 1
            } else {
                s.earlyAcks.insert(mid)
            }
        }
    }

    // MARK: Home Assistant discovery

    private func discovery() -> [Entry] {
        let device: [String: Any] = ["identifiers": ["hark_\(node)"], "name": "Hark \(node)", "manufacturer": "Hark",
                                     "model": modelName, "sw_version": version]
        let availability: [String: Any] = ["availability_topic": "\(prefix)/status", "payload_available": "online",
                                           "payload_not_available": "offline"]
        func config(_ topic: String, _ fields: [String: Any]) -> Entry? {
            guard let data = try? JSONSerialization.data(withJSONObject: fields.merging(availability) { a, _ in a }
                .merging(["device": device]) { a, _ in a }, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
            return Entry(topic: topic, payload: Array(data), qos: Int32(settings.qos), retain: true, isEvent: false)
        }
        var entries = labels.compactMap { l in
            config("\(settings.discoveryPrefix)/binary_sensor/\(node)/\(l.name)/config", [
                "name": "\(l.emoji) \(l.name.replacingOccurrences(of: "_", with: " "))",
                "unique_id": "hark_\(node)_\(l.name)", "object_id": "hark_\(node)_\(l.name)",
                "state_topic": "\(prefix)/state/\(l.name)", "payload_on": "ON", "payload_off": "OFF",
            ])
        }
        if settings.level, let level = config("\(settings.discoveryPrefix)/sensor/\(node)/level/config", [
            "name": "Sound level", "unique_id": "hark_\(node)_level", "object_id": "hark_\(node)_level",
            "state_topic": "\(prefix)/level", "unit_of_measurement": "dBFS", "state_class": "measurement",
        ]) {
            entries.append(level)
        }
        return entries
    }
}

extension MQTTPublisher {
    /// The publisher a live run asks for (`[mqtt] url`, `--mqtt`), watching the labels its detector
    /// lets raise events; nil when MQTT is off.
    public static func forRun(_ run: LiveRun, version: String) throws -> MQTTPublisher? {
        let settings = try run.overrides.mqtt.settings()
        guard settings.enabled else { return nil }
        let d = run.settings.detector
        let watched = run.model.labels.filter { (d.allow.isEmpty || d.allow.contains($0.name)) && !d.deny.contains($0.name) }
        return try MQTTPublisher(settings: settings, pipeline: run.pipeline, watched: watched, modelName: run.model.name, version: version)
    }
}
