import Dispatch
import Foundation
import HarkAudio
import HarkStream
import Logging
import Synchronization

/// Keeps each event's audio: from a second before its start to its end, at most `cap` samples,
/// written as FLAC under the state directory and linked from the event's row.
///
/// While events are open, one shared stretch of audio (`tail`) is pulled from the pipeline's ring
/// as windows pass — one short copy per window however many events are open, so capture never
/// waits longer than that — and each event is a range in it. An event that reaches the cap while
/// still open has its range copied out and stops holding the stretch back. Files are written on a
/// queue of their own (at most `maxPendingWrites` waiting; beyond that a clip is skipped, logged),
/// so encoding never delays the history or the JSON lines.
///
/// Threads: the recorder's thread calls everything but `drain`; writes run on `writes`.
final class EventAudioKeeper {
    private let pipeline: LivePipeline
    private let store: HistoryStore
    private let rate: Int
    private let cap: Int
    private let logger: Logger
    private let failed: @Sendable (String) -> Void
    private let writes = DispatchQueue(label: "hark.event-audio")
    private let pendingWrites = DispatchGroup()
    /// Clips queued or being written (shared with the writing queue).
    private final class Pending: Sendable { let count = Mutex(0) }
    private let pending = Pending()
    static let maxPendingWrites = 64

    private var tailStart = 0
    private var tail: [Float] = []
    private var open: [String: (from: Int, limit: Int)] = [:]
    private var capped: [String: [Float]] = [:]

    init(pipeline: LivePipeline, store: HistoryStore, maxSeconds: Double, logger: Logger,
         failed: @escaping @Sendable (String) -> Void) {
        self.pipeline = pipeline
        self.store = store
        rate = pipeline.info.sampleRate
        cap = Int(maxSeconds * Double(rate))
        self.logger = logger
        self.failed = failed
    }

    private func position(_ seconds: Double) -> Int { max(0, Int((seconds * Double(rate)).rounded())) }

    func started(_ id: String, at start: Double, now: Double) {
        let from = position(start - 1)
        if open.isEmpty {
            tail = []
            tailStart = from
        } else if from < tailStart {
            let earlier = pipeline.recentAudio(from: from, to: tailStart)
            tail = earlier.samples + tail
            tailStart = earlier.start
        }
        // The ring may no longer hold the whole lead-in: the clip starts where the audio does.
        open[id] = (max(from, tailStart), max(from, tailStart) + cap)
        advance(to: now)
    }

    /// Pulls the audio up to `seconds` into the shared stretch; clips that reach the cap are cut.
    func advance(to seconds: Double) {
        guard !open.isEmpty else { return }
        let end = position(seconds)
        let tailEnd = tailStart + tail.count
        if end > tailEnd {
            let got = pipeline.recentAudio(from: tailEnd, to: end)
            if got.start > tailEnd {   // the ring overran us (a stall): keep time aligned with silence
                tail += [Float](repeating: 0, count: got.start - tailEnd)
            }
            tail += got.samples
        }
        for (id, clip) in open where tailStart + tail.count >= clip.limit {
            capped[id] = slice(clip.from, clip.limit)
            open[id] = nil
        }
        trim()
    }

    func ended(_ id: String, at end: Double) {
        advance(to: end)
        let samples: [Float]
        if let done = capped.removeValue(forKey: id) {
            samples = done
        } else if let clip = open.removeValue(forKey: id) {
            samples = slice(clip.from, min(position(end), clip.limit))
            trim()
        } else {
            return
        }
        save(samples, event: id)
    }

    /// Waits (at most `timeout`) for the clips being written.
    func drain(timeout: Double) {
        if pendingWrites.wait(timeout: .now() + timeout) == .timedOut {
            logger.warning("history: event audio still being written at shutdown; the last clips may be missing")
        }
    }

    private func slice(_ from: Int, _ to: Int) -> [Float] {
        let a = max(0, from - tailStart), b = min(tail.count, max(a, to - tailStart))
        return Array(tail[a..<b])
    }

    /// Drops what no open clip needs any more.
    private func trim() {
        guard let earliest = open.values.map(\.from).min() else {
            tail = []
            return
        }
        let drop = earliest - tailStart
        if drop > 0 {
            tail.removeFirst(min(drop, tail.count))
            tailStart += drop
        }
    }

    private func save(_ samples: [Float], event id: String) {
        guard !samples.isEmpty else { return }
        let accepted = pending.count.withLock { n -> Bool in
            guard n < Self.maxPendingWrites else { return false }
            n += 1
            return true
        }
        guard accepted else {
            logger.warning("history: too many event clips waiting to be written; skipped one", metadata: ["event": "\(id)"])
            return
        }
        let (store, rate, pending, failed) = (store, rate, pending, failed)
        pendingWrites.enter()
        writes.async { [pendingWrites] in
            defer {
                pending.count.withLock { $0 -= 1 }
                pendingWrites.leave()
            }
            let relative = "audio/\(id).flac"
            let url = store.directory.appendingPathComponent(relative)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                try AudioFileWriter.writeFLAC(samples, sampleRate: rate, to: url.path)
                try store.setAudio(event: id, file: relative, seconds: Double(samples.count) / Double(rate))
            } catch {
                failed("could not keep the audio of event \(id): \(error)")
            }
        }
    }
}
