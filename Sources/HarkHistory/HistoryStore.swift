import Foundation
import GRDB
import HarkStream
import Logging

/// The service's history: runs, events and analyses in one SQLite database (GRDB) in the state
/// directory.
///
/// Durability: WAL with `synchronous = FULL`. Every committed event is on disk before its line
/// goes to stdout, and survives a crash of the process *and* a power failure (FULL syncs the WAL
/// at each commit; NORMAL would survive `kill -9` but could lose the last commits when the power
/// goes). The cost is one fsync per batch of events, a few per minute. A busy timeout of 5 s lets
/// the API's readers and the recorder share the file. At start `PRAGMA quick_check` runs; a file
/// that fails it (or is no database) is moved aside under a dated name, said in the log, and a
/// new one is made — it is never silently overwritten.
///
/// Threads: any; GRDB's pool serialises writes and runs reads concurrently.
public final class HistoryStore: Sendable {
    public let directory: URL
    public let path: String
    let pool: DatabasePool

    /// Opens (or creates) `DIRECTORY/hark.sqlite`; the folder is made private to this user.
    public init(directory: String, logger: Logger) throws {
        self.directory = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        path = self.directory.appendingPathComponent("hark.sqlite").path
        if FileManager.default.fileExists(atPath: path), let problem = Self.damage(at: path) {
            let aside = path + ".damaged-" + Self.stamp()
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
            }
            logger.error("the history database failed its check; moved aside, starting a new one",
                         metadata: ["problem": "\(problem)", "moved_to": "\(aside)"])
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// What `PRAGMA quick_check` finds wrong with the file, or nil when it is sound.
    static func damage(at path: String) -> String? {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let rows = try queue.read { try String.fetchAll($0, sql: "PRAGMA quick_check") }
            return rows == ["ok"] ? nil : rows.prefix(5).joined(separator: "; ")
        } catch {
            return "\(error)"
        }
    }

    private static func stamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false)
            .timeSeparator(.omitted).dateSeparator(.omitted))
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: runs, events, analyses") { db in
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("started_at", .text).notNull()
                t.column("ended_at", .text)
                t.column("source", .text).notNull()
                t.column("model", .text).notNull()
                t.column("version", .text).notNull()
                t.column("outcome", .text)
                t.column("summary", .text)
            }
            try db.create(table: "event") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("id", .text).notNull().unique()
                t.column("run_id", .integer).notNull().references("run", onDelete: .cascade)
                t.column("phase", .text).notNull()
                t.column("label", .text).notNull()
                t.column("emoji", .text).notNull()
                t.column("class_index", .integer).notNull()
                t.column("score", .double).notNull()
                t.column("peak_score", .double).notNull()
                t.column("mean_score", .double).notNull()
                t.column("start", .double).notNull()
                t.column("end", .double)
                t.column("duration", .double)
                t.column("stream_time", .double).notNull()
                t.column("wall_time", .text).notNull()
                t.column("windows", .integer).notNull()
                t.column("started_at", .text).notNull()
                t.column("ended_at", .text)
                t.column("audio_file", .text)
                t.column("audio_seconds", .double)
            }
            try db.create(index: "event_started_at", on: "event", columns: ["started_at"])
            try db.create(index: "event_label", on: "event", columns: ["label", "seq"])
            try db.create(table: "analysis") { t in
                t.column("id", .text).primaryKey()
                t.column("created_at", .text).notNull()
                t.column("filename", .text)
                t.column("size_bytes", .integer).notNull()
                t.column("duration", .double).notNull()
                t.column("sample_rate", .integer).notNull()
                t.column("model", .text).notNull()
                t.column("top", .text).notNull()
                t.column("windows", .text).notNull()
                t.column("audio_file", .text)
            }
            try db.create(index: "analysis_created_at", on: "analysis", columns: ["created_at"])
        }
        return m
    }

    // MARK: runs

    public func startRun(source: String, model: String, version: String, at wallTime: String) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO run (started_at, source, model, version) VALUES (?, ?, ?, ?)",
                           arguments: [wallTime, source, model, version])
            return db.lastInsertedRowID
        }
    }

    public func endRun(_ id: Int64, at wallTime: String, outcome: String, summary: RunSummary?) throws {
        let json = try summary.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try pool.write { db in
            try db.execute(sql: "UPDATE run SET ended_at = ?, outcome = ?, summary = ? WHERE id = ?",
                           arguments: [wallTime, outcome, json, id])
        }
    }

    // MARK: events

    /// Writes a batch of event lines in one transaction: each event's row takes its latest phase
    /// and numbers. Returns when they are on disk.
    public func record(_ events: [EventMessage], run: Int64) throws {
        guard !events.isEmpty else { return }
        try pool.write { db in
            for e in events {
                try db.execute(sql: """
                    INSERT INTO event (id, run_id, phase, label, emoji, class_index, score, peak_score, mean_score, start, "end",
                                       duration, stream_time, wall_time, windows, started_at, ended_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, score = excluded.score,
                        peak_score = excluded.peak_score, mean_score = excluded.mean_score, "end" = excluded."end",
                        duration = excluded.duration, stream_time = excluded.stream_time, wall_time = excluded.wall_time,
                        windows = excluded.windows, ended_at = excluded.ended_at
                    """, arguments: [e.id, run, e.phase.rawValue, e.label, e.emoji, e.classIndex, Self.score(e.score),
                                     Self.score(e.peakScore), Self.score(e.meanScore), e.start.rounded3,
                                     e.end?.rounded3, e.duration?.rounded3, e.streamTime.rounded3, e.wallTime, e.windows,
                                     e.wallTime, e.phase == .end ? e.wallTime : nil])
            }
        }
    }

    /// A score as the event line prints it (4 decimals), without the float's binary tail.
    static func score(_ value: Float) -> Double { (Double(value) * 10_000).rounded() / 10_000 }

    public func setAudio(event id: String, file: String, seconds: Double) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE event SET audio_file = ?, audio_seconds = ? WHERE id = ?", arguments: [file, seconds, id])
        }
    }

    /// Which events `events(_:)` returns: all filters optional; newest first, `limit` a page,
    /// `before` the cursor a previous page returned.
    public struct EventQuery: Sendable {
        public var label: String?
        /// ISO 8601 wall times of the event's start, inclusive.
        public var from: String?
        public var to: String?
        public var minimumScore: Double?
        public var limit = 100
        public var before: Int64?
        public init() {}
    }

    public func events(_ q: EventQuery) throws -> (events: [StoredEvent], next: Int64?) {
        var conditions: [String] = [], arguments: [any DatabaseValueConvertible] = []
        if let label = q.label { conditions.append("label = ?"); arguments.append(label) }
        if let from = q.from { conditions.append("started_at >= ?"); arguments.append(from) }
        if let to = q.to { conditions.append("started_at <= ?"); arguments.append(to) }
        if let score = q.minimumScore { conditions.append("peak_score >= ?"); arguments.append(score) }
        if let before = q.before { conditions.append("seq < ?"); arguments.append(before) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(1, min(q.limit, 1000))
        let rows = try pool.read { db in
            try StoredEvent.fetchAll(db, sql: "SELECT * FROM event \(filter) ORDER BY seq DESC LIMIT \(limit + 1)",
                                     arguments: StatementArguments(arguments))
        }
        let page = Array(rows.prefix(limit))
        return (page, rows.count > limit ? page.last?.seq : nil)
    }

    public func event(id: String) throws -> StoredEvent? {
        try pool.read { db in try StoredEvent.fetchOne(db, sql: "SELECT * FROM event WHERE id = ?", arguments: [id]) }
    }

    // MARK: analyses

    public func record(_ analysis: StoredAnalysis) throws {
        try pool.write { db in try analysis.insert(db) }
    }

    public func analyses(limit: Int, before: String?) throws -> (analyses: [StoredAnalysis], next: String?) {
        let limit = max(1, min(limit, 1000))
        let rows = try pool.read { db in
            if let before {
                return try StoredAnalysis.fetchAll(db, sql: """
                    SELECT * FROM analysis WHERE (created_at, id) < (SELECT created_at, id FROM analysis WHERE id = ?)
                    ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)
                    """, arguments: [before])
            }
            return try StoredAnalysis.fetchAll(db, sql: "SELECT * FROM analysis ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)")
        }
        let page = Array(rows.prefix(limit))
        return (page, rows.count > limit ? page.last?.id : nil)
    }

    public func analysis(id: String) throws -> StoredAnalysis? {
        try pool.read { db in try StoredAnalysis.fetchOne(db, key: id) }
    }

    /// Deletes an analysis; returns its row (for its audio file) when there was one.
    public func deleteAnalysis(id: String) throws -> StoredAnalysis? {
        try pool.write { db in
            guard let row = try StoredAnalysis.fetchOne(db, key: id) else { return nil }
            _ = try row.delete(db)
            return row
        }
    }

    // MARK: retention and health

    /// Deletes events and analyses started before `cutoff` and events beyond the newest `keepEvents`;
    /// returns the audio files (relative to the directory) they held. Then checkpoints the WAL.
    public func applyRetention(cutoff: String, keepEvents: Int) throws -> [String] {
        let files = try pool.write { db -> [String] in
            let threshold = try Int64.fetchOne(db, sql: "SELECT seq FROM event ORDER BY seq DESC LIMIT 1 OFFSET ?",
                                               arguments: [keepEvents]) ?? 0
            let condition = "started_at < ? OR seq <= ?"
            var files = try String.fetchAll(db, sql: "SELECT audio_file FROM event WHERE (\(condition)) AND audio_file IS NOT NULL",
                                            arguments: [cutoff, threshold])
            try db.execute(sql: "DELETE FROM event WHERE \(condition)", arguments: [cutoff, threshold])
            files += try String.fetchAll(db, sql: "SELECT audio_file FROM analysis WHERE created_at < ? AND audio_file IS NOT NULL",
                                         arguments: [cutoff])
            try db.execute(sql: "DELETE FROM analysis WHERE created_at < ?", arguments: [cutoff])
            return files
        }
        try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        return files
    }

    /// Whether a write goes through now (for /health): a tiny transaction that changes nothing.
    public var isWritable: Bool {
        (try? pool.write { db in try db.execute(sql: "UPDATE run SET id = id WHERE 0") }) != nil
    }
}
