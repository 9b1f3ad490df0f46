import HarkClassifier
import Synchronization

/// Counters shared by the pipeline's threads, and the latency record for p50/p99.
final class LiveCounters: Sendable {
    struct Values {
        var windowsClassified = 0
        var windowsGated = 0
        var windowsDropped = 0
        var windowsDroppedReported = 0
        var windowsOverwritten = 0
        var overruns = 0
        var captureLosses = 0
        var events = 0
        var streamSamples = 0
        /// The most recent latencies, milliseconds (bounded: a ring of the last 10 000).
        var latencies: [Double] = []
        var latencyCursor = 0
    }

    static let latencyCapacity = 10_000
    let values = Mutex(Values())

    func update(_ body: (inout Values) -> Void) { values.withLock { body(&$0) } }

    func recordLatency(_ ms: Double) {
        values.withLock { v in
            if v.latencies.count < Self.latencyCapacity {
                v.latencies.append(ms)
            } else {
                v.latencies[v.latencyCursor] = ms
                v.latencyCursor = (v.latencyCursor + 1) % Self.latencyCapacity
            }
        }
    }

    func summary(sampleRate: Int) -> RunSummary {
        values.withLock { v in
            let sorted = v.latencies.sorted()
            func pct(_ p: Double) -> Double? {
                sorted.isEmpty ? nil : (Percentile.nearestRank(sorted, p) * 100).rounded() / 100
            }
            return RunSummary(streamSeconds: (Double(v.streamSamples) / Double(sampleRate)).rounded3,
                              windowsClassified: v.windowsClassified, windowsGated: v.windowsGated,
                              windowsDropped: v.windowsDropped, windowsOverwritten: v.windowsOverwritten,
                              overruns: v.overruns, captureLosses: v.captureLosses, events: v.events,
                              latencyP50Milliseconds: pct(0.5), latencyP99Milliseconds: pct(0.99))
        }
    }
}
