import Foundation
import Logging

extension HistoryStore {
    /// One retention pass: events and analyses older than `days` and events beyond the newest
    /// `keepEvents` go, with their audio files; the WAL is checkpointed. Returns what was removed.
    @discardableResult
    public func prune(days: Double, keepEvents: Int, now: Date = Date(), logger: Logger) -> Int {
        let cutoff = now.addingTimeInterval(-days * 86_400).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        do {
            let files = try applyRetention(cutoff: cutoff, keepEvents: keepEvents)
            for file in files { try? FileManager.default.removeItem(at: directory.appendingPathComponent(file)) }
            if !files.isEmpty { logger.info("history: retention removed \(files.count) audio files") }
            return files.count
        } catch {
            logger.error("history: the retention pass failed", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
