import CoreMetrics
import Foundation
import HarkFleet
import HarkHistory
import HarkStream
import Prometheus
import Synchronization

/// `GET /metrics`: Prometheus text (format 0.0.4) through swift-metrics + swift-prometheus, on a
/// registry of its own. The run's counters (windows, overruns, capture losses, events) follow the
/// pipeline's summary, advanced by the difference at each scrape so they match it exactly; the
/// rest are counted where they happen: events started by label, capture recoveries and window
/// latency from a hub subscription of their own, live clients and their dropped telemetry from
/// the fan-out, uploads by outcome, history write time.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    private let windowsClassified, windowsGated, windowsDropped, windowsOverwritten, captureLosses, overruns: CoreMetrics.Counter
    private let eventsTotal, captureRecoveries, droppedTelemetry, clientsClosedSlow, windowsSkipped: CoreMetrics.Counter
    private let clients, secondsSinceAudio, mqttConnected, historyHeldEvents: CoreMetrics.Gauge
    private let mqttPublished, mqttDroppedEvents, mqttDroppedTelemetry: CoreMetrics.Counter
    private let windowLatency, historyWrite: CoreMetrics.Timer
    private let uploads: [String: CoreMetrics.Counter]
    private let eventsStarted = Mutex<[String: CoreMetrics.Counter]>([:])
    /// What the counters that follow a total have reached (for the next difference).
    private let reported = Mutex<[String: Int]>([:])

    static let uploadOutcomes = ["ok", "too_large", "unsupported", "bad_request", "busy", "error"]

    init() {
        var f = PrometheusMetricsFactory(registry: registry)
        f.durationHistogramBuckets["hark_window_latency_seconds"] =
            [0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5].map { Duration.milliseconds(Int64($0 * 1000)) }
        f.durationHistogramBuckets["hark_history_write_seconds"] =
            [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1].map { Duration.microseconds(Int64($0 * 1_000_000)) }
        factory = f
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: name, dimensions: dimensions, factory: f)
        }
        windowsClassified = counter("hark_windows_classified_total")
        windowsGated = counter("hark_windows_gated_total")
        windowsDropped = counter("hark_windows_dropped_total")
        windowsOverwritten = counter("hark_windows_overwritten_total")
        captureLosses = counter("hark_capture_losses_total")
        overruns = counter("hark_capture_overruns_total")
        eventsTotal = counter("hark_events_total")
        captureRecoveries = counter("hark_capture_recoveries_total")
        droppedTelemetry = counter("hark_live_dropped_telemetry_total")
        clientsClosedSlow = counter("hark_live_clients_closed_slow_total")
        windowsSkipped = counter("hark_live_windows_skipped_total")
        clients = CoreMetrics.Gauge(label: "hark_live_clients", dimensions: [], factory: f)
        secondsSinceAudio = CoreMetrics.Gauge(label: "hark_seconds_since_audio", dimensions: [], factory: f)
        mqttConnected = CoreMetrics.Gauge(label: "hark_mqtt_connected", dimensions: [], factory: f)
        historyHeldEvents = CoreMetrics.Gauge(label: "hark_history_held_events", dimensions: [], factory: f)
        mqttPublished = counter("hark_mqtt_published_total")
        mqttDroppedEvents = counter("hark_mqtt_dropped_events_total")
        mqttDroppedTelemetry = counter("hark_mqtt_dropped_telemetry_total")
        windowLatency = CoreMetrics.Timer(label: "hark_window_latency_seconds", dimensions: [], factory: f)
        historyWrite = CoreMetrics.Timer(label: "hark_history_write_seconds", dimensions: [], factory: f)
        uploads = Dictionary(uniqueKeysWithValues: Self.uploadOutcomes.map { ($0, counter("hark_uploads_total", [("outcome", $0)])) })
    }

    /// Follows the pipeline's events, recoveries and window latency on a thread of its own.
    func follow(_ pipeline: LivePipeline) {
        let subscription = pipeline.hub.subscribe(Interest(windows: true), delivery: .lossless, capacity: 1024)
        Thread.detachNewThread { [self] in
            while let item = subscription.next() {
                switch item {
                case .event(let e) where e.phase == .start: eventStarted(e.label)
                case .status(let s) where s.status == .captureRecovered: captureRecoveries.increment()
                case .window(let w) where !w.gated: windowLatency.recordNanoseconds(Int64(w.latencyMilliseconds * 1e6))
                default: break
                }
            }
        }
    }

    private func eventStarted(_ label: String) {
        let counter = eventsStarted.withLock { c in
            if let existing = c[label] { return existing }
            let made = CoreMetrics.Counter(label: "hark_events_started_total", dimensions: [("label", label)], factory: factory)
            c[label] = made
            return made
        }
        counter.increment()
    }

    func upload(_ outcome: String) { (uploads[outcome] ?? uploads["error"])?.increment() }

    func historyWrote(seconds: Double) { historyWrite.recordNanoseconds(Int64(seconds * 1e9)) }

    /// The text a scrape gets, after bringing the totals up to date.
    func scrape(summary: RunSummary, live: LiveBroadcaster.Report, droppedTelemetryTotal: Int, secondsSinceAudio age: Double?,
                mqtt: MQTTPublisher.Counters?, history: HistoryRecorder.Health) -> String {
        if let mqtt {
            advance(mqttPublished, "mqtt_published", to: mqtt.published)
            advance(mqttDroppedEvents, "mqtt_dropped_events", to: mqtt.droppedEvents)
            advance(mqttDroppedTelemetry, "mqtt_dropped_telemetry", to: mqtt.droppedTelemetry)
            mqttConnected.record(mqtt.connected ? 1 : 0)
        }
        advance(windowsClassified, "classified", to: summary.windowsClassified)
        advance(windowsGated, "gated", to: summary.windowsGated)
        advance(windowsDropped, "dropped", to: summary.windowsDropped)
        advance(windowsOverwritten, "overwritten", to: summary.windowsOverwritten)
        advance(captureLosses, "losses", to: summary.captureLosses)
        advance(overruns, "overruns", to: summary.overruns)
        advance(eventsTotal, "events", to: summary.events)
        advance(droppedTelemetry, "telemetry", to: droppedTelemetryTotal)
        advance(clientsClosedSlow, "closed", to: live.server.clientsClosedSlow)
        advance(windowsSkipped, "skipped", to: live.server.windowsSkipped)
        clients.record(live.server.clients)
        secondsSinceAudio.record(age ?? -1)
        historyHeldEvents.record(history.heldEvents)
        return registry.emitToString()
    }

    private func advance(_ counter: CoreMetrics.Counter, _ key: String, to total: Int) {
        let delta = reported.withLock { r -> Int in
            let d = total - (r[key] ?? 0)
            if d > 0 { r[key] = total }
            return d
        }
        if delta > 0 { counter.increment(by: delta) }
    }
}
