import Foundation
import HarkConfig
import Hummingbird
import NIOCore

/// `POST /v1/classify`: a file in, the seed visualizers' answer out (`FileAnalysis`). The body is
/// read up to the size limit (413 beyond), saved to a private temporary file and decoded there;
/// the analysis waits for the bounded worker (503 when its queue is full).
/// Query: `hop` (seconds between windows of a long file, default 1), `window` (which window's maps).
struct ClassifyController: Sendable {
    let worker: AnalysisWorker
    let settings: ServeSettings
    let uploads: URL

    func classify(_ request: Request, _ context: HarkRequestContext) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: settings.maxUploadBytes)
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge, message: "the upload is over the limit of \(settings.maxUploadBytes / 1_048_576) MB")
        }
        let upload = try UploadBody.parse(contentType: request.headers[.contentType], body: body)
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
        let path = uploads.appendingPathComponent(UUID().uuidString).path
        guard FileManager.default.createFile(atPath: path, contents: upload.bytes,
                                             attributes: [.posixPermissions: 0o600]) else {
            throw HTTPError(.internalServerError, message: "the upload could not be stored for decoding")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let name = upload.filename ?? "the upload"
        let maxSeconds = settings.maxUploadSeconds
        let analysis: FileAnalysis
        do {
            analysis = try await worker.perform { classifier in
                try FileAnalysis.analyse(path: path, displayName: name, filename: upload.filename, classifier: classifier,
                                         hopSeconds: hop, windowIndex: window, maxSeconds: maxSeconds)
            }
        } catch is AnalysisWorker.Busy {
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "5"],
                            message: "the analysis queue is full (\(settings.uploadQueue) waiting); try again shortly")
        }
        return try JSONResponse.make(analysis)
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
