import Foundation
import HarkConfig
import HarkHistory
import HarkStream
import HarkUploads
import Hummingbird
import NIOCore

/// `POST /v1/classify`: a file in, the seed visualizers' answer out (`FileAnalysis`). An upload
/// first takes an admission slot (503 when `maxUploadsInFlight` are in the server), its body is
/// read up to the size limit (413 beyond, at once when Content-Length says so) and within the
/// request timeout (408 after), saved to a private temporary file and decoded there; the analysis
/// waits for the bounded worker (503 when its queue is full).
/// Query: `hop` (seconds between windows of a long file, default 1), `window` (which window's maps),
/// `record=false` (leave it out of the history; by default the answer and the file are kept there).
struct ClassifyController: Sendable {
    let worker: AnalysisWorker
    let settings: ServerSettings
    let uploads: URL
    let store: HistoryStore
    let metrics: ServiceMetrics
    let admission: UploadAdmission

    init(worker: AnalysisWorker, settings: ServerSettings, uploads: URL, store: HistoryStore, metrics: ServiceMetrics) {
        self.worker = worker
        self.settings = settings
        self.uploads = uploads
        self.store = store
        self.metrics = metrics
        admission = UploadAdmission(limit: settings.maxUploadsInFlight)
    }

    func classify(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        do {
            let response = try await analyse(request, context)
            metrics.upload("ok")
            return response
        } catch let error as HTTPError {
            switch error.status {
            case .contentTooLarge: metrics.upload("too_large")
            case .unsupportedMediaType: metrics.upload("unsupported")
            case .serviceUnavailable: metrics.upload("busy")
            case .requestTimeout: metrics.upload("timeout")
            case .badRequest: metrics.upload("bad_request")
            default: metrics.upload("error")
            }
            throw error
        } catch {
            metrics.upload("error")
            throw error
        }
    }

    private func analyse(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        guard admission.enter() else {
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "5"],
                            message: "\(admission.limit) uploads are already in progress; try again shortly")
        }
        defer { admission.leave() }
        let body = try await readBody(request)
        let upload: UploadBody
        do {
            upload = try UploadBody.parse(contentType: request.headers[.contentType], body: body)
        } catch {
            throw HTTPError(error.kind == .unsupportedMediaType ? .unsupportedMediaType : .badRequest, message: error.description)
        }
        guard !upload.bytes.isEmpty else { throw HTTPError(.badRequest, message: "the upload is empty") }
        let query = request.uri.queryParameters
        let hop = try query["hop"].map { text throws(HTTPError) -> Double in
            guard let v = Double(text), v >= 0.25, v <= 60 else { throw HTTPError(.badRequest, message: "hop must be 0.25 to 60 seconds") }
            return v
        } ?? 1.0
        let window = try query["window"].map { text throws(HTTPError) -> Int in
            guard let v = Int(text), v >= 0 else { throw HTTPError(.badRequest, message: "window must be a window index (0, 1, …)") }
            return v
        }
        let record = query["record"].map { !["false", "0", "no"].contains($0.lowercased()) } ?? true
        let path = uploads.appendingPathComponent(UUID().uuidString).path
        guard FileManager.default.createFile(atPath: path, contents: upload.bytes,
                                             attributes: [.posixPermissions: 0o600]) else {
            throw HTTPError(.internalServerError, message: "the upload could not be stored for decoding")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let name = upload.filename ?? "the upload"
        let maxSeconds = settings.maxUploadSeconds
        var analysis: FileAnalysis
        do {
            analysis = try await worker.perform { [worker] classifier in
                try FileAnalysis.analyse(path: path, displayName: name, filename: upload.filename, classifier: classifier,
                                         hopSeconds: hop, windowIndex: window, maxSeconds: maxSeconds,
                                         shouldStop: { worker.isStopped })
            }
        } catch is AnalysisWorker.Busy {
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "5"],
                            message: "the analysis queue is full (\(settings.uploadQueue) waiting); try again shortly")
        } catch is AnalysisWorker.ShuttingDown {
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "10"], message: "hark is shutting down; try again shortly")
        }
        if record { analysis.analysisID = try await keep(analysis, file: path, size: upload.bytes.count) }
        return try JSONResponse.make(analysis)
    }

    /// The body, up to the size limit and within the request timeout. A sender that stops
    /// altogether is cut off by the server's idle timeout (the same length) and ends the read.
    private func readBody(_ request: Request) async throws -> ByteBuffer {
        let tooLarge = HTTPError(.contentTooLarge, message: "the upload is over the limit of \(settings.maxUploadBytes / 1_048_576) MB")
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > settings.maxUploadBytes { throw tooLarge }
        let deadline = ContinuousClock.now + .seconds(settings.requestTimeoutSeconds)
        var body = ByteBuffer()
        for try await chunk in request.body {
            guard ContinuousClock.now <= deadline else {
                throw HTTPError(.requestTimeout, message: "the upload did not arrive within \(settings.requestTimeoutSeconds) s")
            }
            guard body.readableBytes + chunk.readableBytes <= settings.maxUploadBytes else { throw tooLarge }
            body.writeImmutableBuffer(chunk)
        }
        return body
    }

    /// Records the analysis and keeps the file (for its maps later) in the state directory.
    private func keep(_ analysis: FileAnalysis, file: String, size: Int) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let relative = "uploads/\(id)"
        let encoder = JSONEncoder()
        let row = StoredAnalysis(
            id: id, createdAt: WallClock.now(), filename: analysis.filename, sizeBytes: size, duration: analysis.duration,
            sampleRate: analysis.waveform.sampleRate, model: analysis.model,
            top: String(decoding: try encoder.encode(analysis.predictions), as: UTF8.self),
            windows: String(decoding: try encoder.encode(analysis.windows), as: UTF8.self), audioFile: relative)
        try await offPool { [store] in
            let destination = store.directory.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: file, toPath: destination.path)
            try store.record(row)
        }
        return id
    }
}

/// A JSON response with Hark's encoder settings.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try LiveSocketWire.encoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
