import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// The audio bytes of a `POST /v1/classify` body, in any of its three forms: the file itself
/// (`audio/*` or `application/octet-stream`), a `multipart/form-data` upload (the first part that
/// carries a file, or the part named `file` or `audio`), or the seed front-ends' JSON
/// `{"audio_data": "<base64>"}` (a `data:` URL prefix is allowed).
struct UploadBody {
    var bytes: Data
    /// The name the client gave the file, when it gave one.
    var filename: String?

    static func parse(contentType: String?, body: ByteBuffer) throws(HTTPError) -> UploadBody {
        let type = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch type {
        case "multipart/form-data":
            return try multipart(contentType: contentType ?? "", body: body)
        case "application/json":
            return try json(body)
        case "", "application/octet-stream":
            return UploadBody(bytes: Data(body.readableBytesView), filename: nil)
        case let t where t.hasPrefix("audio/") || t.hasPrefix("video/"):
            return UploadBody(bytes: Data(body.readableBytesView), filename: nil)
        default:
            throw HTTPError(.unsupportedMediaType, message: "Content-Type \(type) is not audio; send the file as audio/* or "
                            + "application/octet-stream, as multipart/form-data, or as JSON {\"audio_data\": \"<base64>\"}")
        }
    }

    private struct JSONForm: Decodable {
        var audioData: String
        enum CodingKeys: String, CodingKey { case audioData = "audio_data" }
    }

    private static func json(_ body: ByteBuffer) throws(HTTPError) -> UploadBody {
        let form: JSONForm
        do {
            form = try JSONDecoder().decode(JSONForm.self, from: Data(body.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "the JSON body needs a string field \"audio_data\" holding the file in base64")
        }
        var text = Substring(form.audioData)
        if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") { text = text[text.index(after: comma)...] }
        guard let data = Data(base64Encoded: String(text), options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw HTTPError(.badRequest, message: "\"audio_data\" is not valid base64")
        }
        return UploadBody(bytes: data, filename: nil)
    }

    private static func multipart(contentType: String, body: ByteBuffer) throws(HTTPError) -> UploadBody {
        guard let boundary = parameter("boundary", in: contentType), !boundary.isEmpty, boundary.count <= 200 else {
            throw HTTPError(.badRequest, message: "multipart/form-data without a boundary")
        }
        var parts: [(headers: [String: String], body: [UInt8])] = []
        var headers: [String: String] = [:]
        var bytes: [UInt8] = []
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers[name.lowercased()] = value }
        parser.onBody = { buffer in bytes += buffer.readableBytesView }
        parser.onPartComplete = {
            parts.append((headers, bytes))
            headers = [:]
            bytes = []
        }
        do {
            try parser.execute(body)
        } catch {
            throw HTTPError(.badRequest, message: "the multipart/form-data body is malformed")
        }
        func name(_ part: (headers: [String: String], body: [UInt8])) -> String? { parameter("name", in: part.headers["content-disposition"] ?? "") }
        func file(_ part: (headers: [String: String], body: [UInt8])) -> String? { parameter("filename", in: part.headers["content-disposition"] ?? "") }
        guard let part = parts.first(where: { file($0) != nil }) ?? parts.first(where: { ["file", "audio"].contains(name($0) ?? "") }) else {
            throw HTTPError(.badRequest, message: "the multipart/form-data body has no file part (a part with a filename, or named file or audio)")
        }
        return UploadBody(bytes: Data(part.body), filename: file(part))
    }

    /// `key=value` or `key="value"` from a header such as Content-Type or Content-Disposition.
    static func parameter(_ key: String, in header: String) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == key else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
