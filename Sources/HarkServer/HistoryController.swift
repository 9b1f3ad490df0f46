import Foundation
import HarkHistory
import HTTPTypes
import Hummingbird
import NIOCore

/// The history API: `GET /v1/events` (filters, cursor pages, CSV), `GET /v1/events/{id}`,
/// `GET /v1/events/{id}/audio`, `GET /v1/analyses`, `GET /v1/analyses/{id}`,
/// `DELETE /v1/analyses/{id}`.
struct HistoryController: Sendable {
    let store: HistoryStore
    /// Recomputes an analysis (maps and all) from its kept upload.
    let reanalyse: @Sendable (_ path: String, _ filename: String?) async throws -> FileAnalysis
    /// A CSV page's cursor for the next one (its JSON twin is `next`).
    static let nextCursor = HTTPField.Name("Hark-Next-Cursor")!

    struct EventPage: Encodable {
        var events: [EventView]
        var next: String?
    }

    /// An event as the API shows it: the event object's fields plus the run and its audio.
    struct EventView: Encodable {
        var type = "event"
        var event: StoredEvent
        var audio: String?

        func encode(to encoder: any Encoder) throws {
            try event.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(type, forKey: .type)
            try c.encode(audio, forKey: .audio)
        }
        enum Keys: String, CodingKey { case type, audio }
    }

    private func view(_ e: StoredEvent) -> EventView {
        EventView(event: e, audio: e.audioFile == nil ? nil : "/v1/events/\(e.id)/audio")
    }

    func events(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let q = request.uri.queryParameters
        var query = HistoryStore.EventQuery()
        query.label = q["label"].map(String.init)
        query.from = try q["from"].map { try Self.time(String($0), name: "from") }
        query.to = try q["to"].map { try Self.time(String($0), name: "to") }
        if let text = q["min_score"] {
            guard let v = Double(text), (0...1).contains(v) else { throw HTTPError(.badRequest, message: "min_score must be 0 to 1") }
            query.minimumScore = v
        }
        if let text = q["limit"] {
            guard let v = Int(text), (1...1000).contains(v) else { throw HTTPError(.badRequest, message: "limit must be 1 to 1000") }
            query.limit = v
        }
        if let text = q["cursor"] {
            guard let v = Int64(text) else { throw HTTPError(.badRequest, message: "cursor is the `next` of a previous page") }
            query.before = v
        }
        let q2 = query
        let page = try await offPool { [store] in try store.events(q2) }
        if request.headers[.accept]?.contains("text/csv") == true {
            var headers: HTTPFields = [.contentType: "text/csv; charset=utf-8"]
            if let next = page.next { headers[Self.nextCursor] = "\(next)" }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Self.csv(page.events))))
        }
        return try JSONResponse.make(EventPage(events: page.events.map(view), next: page.next.map(String.init)))
    }

    func event(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let e = try await offPool({ [store] in try store.event(id: id) }) else {
            throw HTTPError(.notFound, message: "no event \(id) in the history")
        }
        return try JSONResponse.make(view(e))
    }

    func audio(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let e = try await offPool({ [store] in try store.event(id: id) }) else {
            throw HTTPError(.notFound, message: "no event \(id) in the history")
        }
        guard let file = e.audioFile else { throw HTTPError(.notFound, message: "event \(id) has no audio (still open, or audio is off)") }
        let url = store.directory.appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw HTTPError(.notFound, message: "the audio of event \(id) is gone (retention)")
        }
        return Response(status: .ok, headers: [.contentType: "audio/flac", .contentDisposition: "inline; filename=\"\(id).flac\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    struct AnalysisView: Encodable {
        var id: String
        var createdAt: String
        var filename: String?
        var sizeBytes: Int
        var duration: Double
        var model: String
        var predictions: [FileAnalysis.Prediction]
        var windows: [FileAnalysis.Window]
        enum CodingKeys: String, CodingKey {
            case id, createdAt = "created_at", filename, sizeBytes = "size_bytes", duration, model, predictions, windows
        }

        init(_ a: StoredAnalysis) {
            id = a.id
            createdAt = a.createdAt
            filename = a.filename
            sizeBytes = a.sizeBytes
            duration = a.duration
            model = a.model
            predictions = (try? JSONDecoder().decode([FileAnalysis.Prediction].self, from: Data(a.top.utf8))) ?? []
            windows = (try? JSONDecoder().decode([FileAnalysis.Window].self, from: Data(a.windows.utf8))) ?? []
        }
    }

    struct AnalysisPage: Encodable {
        var analyses: [AnalysisView]
        var next: String?
    }

    func analyses(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let q = request.uri.queryParameters
        let limit = q["limit"].flatMap { Int($0) } ?? 50
        let cursor = q["cursor"].map(String.init)
        let page = try await offPool { [store] in try store.analyses(limit: limit, before: cursor) }
        return try JSONResponse.make(AnalysisPage(analyses: page.analyses.map(AnalysisView.init), next: page.next))
    }

    /// The stored answer, recomputed from the kept upload so that maps and spectrogram come back too.
    func analysis(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let a = try await offPool({ [store] in try store.analysis(id: id) }) else {
            throw HTTPError(.notFound, message: "no analysis \(id)")
        }
        guard let file = a.audioFile, FileManager.default.fileExists(atPath: store.directory.appendingPathComponent(file).path) else {
            return try JSONResponse.make(AnalysisView(a))
        }
        var result = try await reanalyse(store.directory.appendingPathComponent(file).path, a.filename)
        result.analysisID = a.id
        return try JSONResponse.make(result)
    }

    func deleteAnalysis(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let a = try await offPool({ [store] in try store.deleteAnalysis(id: id) }) else {
            throw HTTPError(.notFound, message: "no analysis \(id)")
        }
        if let file = a.audioFile { try? FileManager.default.removeItem(at: store.directory.appendingPathComponent(file)) }
        return Response(status: .noContent)
    }

    /// An ISO 8601 time as given, checked (the history stores UTC wall times with milliseconds).
    static func time(_ text: String, name: String) throws -> String {
        guard (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) != nil
                || (try? Date.ISO8601FormatStyle().parse(text)) != nil else {
            throw HTTPError(.badRequest, message: "\(name) must be an ISO 8601 UTC time such as 2026-11-30T05:00:00Z")
        }
        return text
    }

    static func csv(_ events: [StoredEvent]) -> String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        func n(_ d: Double?) -> String { d.map { "\($0)" } ?? "" }
        var lines = ["id,label,emoji,class_index,phase,score,peak_score,mean_score,start,end,duration,stream_time,windows,started_at,ended_at,run_id,audio_seconds"]
        for e in events {
            lines.append([e.id, field(e.label), field(e.emoji), "\(e.classIndex)", e.phase, n(e.score), n(e.peakScore), n(e.meanScore),
                          n(e.start), n(e.end), n(e.duration), n(e.streamTime), "\(e.windows)", e.startedAt, e.endedAt ?? "",
                          "\(e.runID)", n(e.audioSeconds)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

