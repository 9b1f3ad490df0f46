import Foundation
import MultipartKit
import NIOCore

/// Why an upload's body cannot be used: the HTTP status it deserves, and the reason.
public struct UploadError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case unsupportedMediaType, badRequest }
    public var kind: Kind
    public var description: String

    public init(kind: Kind, description: String) {
        self.kind = kind
        self.description = description
    }

    static func bad(_ reason: String) -> UploadError { UploadError(kind: .badRequest, description: reason) }
}

/// The audio bytes of a `POST /v1/classify` body, in any of its three forms: the file itself
/// (`audio/*` or `application/octet-stream`), a `multipart/form-data` upload (the first part that
/// carries a file, or the part named `file` or `audio`), or the seed front-ends' JSON
/// `{"audio_data": "<base64>"}` (a `data:` URL prefix is allowed).
public struct UploadBody: Sendable {
    public var bytes: Data
    /// The name the client gave the file, when it gave one.
    public var filename: String?

    public static func parse(contentType: String?, body: ByteBuffer) throws(UploadError) -> UploadBody {
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
            throw UploadError(kind: .unsupportedMediaType, description: "Content-Type \(type) is not audio; send the file as audio/* or "
                              + "application/octet-stream, as multipart/form-data, or as JSON {\"audio_data\": \"<base64>\"}")
        }
    }

    private struct JSONForm: Decodable {
        var audioData: String
        enum CodingKeys: String, CodingKey { case audioData = "audio_data" }
    }

    private static func json(_ body: ByteBuffer) throws(UploadError) -> UploadBody {
        let form: JSONForm
        do {
            form = try JSONDecoder().decode(JSONForm.self, from: Data(body.readableBytesView))
        } catch {
            throw .bad("the JSON body needs a string field \"audio_data\" holding the file in base64")
        }
        var text = Substring(form.audioData)
        if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") { text = text[text.index(after: comma)...] }
        guard let data = Data(base64Encoded: String(text), options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw .bad("\"audio_data\" is not valid base64")
        }
        return UploadBody(bytes: data, filename: nil)
    }

    private static func multipart(contentType: String, body: ByteBuffer) throws(UploadError) -> UploadBody {
        guard let boundary = parameter("boundary", in: contentType), !boundary.isEmpty, boundary.count <= 200 else {
            throw .bad("multipart/form-data without a boundary")
        }
        guard headerNamesAreASCII(body.readableBytesView, boundary: Array(boundary.utf8)) else {
            throw .bad("the multipart/form-data body is malformed: a part's header name is not ASCII")
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
            throw .bad("the multipart/form-data body is malformed")
        }
        func name(_ part: (headers: [String: String], body: [UInt8])) -> String? { parameter("name", in: part.headers["content-disposition"] ?? "") }
        func file(_ part: (headers: [String: String], body: [UInt8])) -> String? { parameter("filename", in: part.headers["content-disposition"] ?? "") }
        guard let part = parts.first(where: { file($0) != nil }) ?? parts.first(where: { ["file", "audio"].contains(name($0) ?? "") }) else {
            throw .bad("the multipart/form-data body has no file part (a part with a filename, or named file or audio)")
        }
        return UploadBody(bytes: Data(part.body), filename: file(part))
    }

    /// Whether every header name that MultipartKit could read in `body` is ASCII. MultipartKit 4.7.1
    /// looks a name's bytes up in a 128-entry table, so a byte ≥ 0x80 there traps — it would take
    /// the whole service down — instead of throwing (found by Fuzz/fuzz-requests). The parser only
    /// reads header names after a `--boundary` and until the blank line that ends a part's headers,
    /// a name running to its line's ':' (or the line's end); this checks those bytes after *every*
    /// occurrence of the boundary, a superset of what the parser visits.
    static func headerNamesAreASCII<Bytes: RandomAccessCollection<UInt8>>(_ body: Bytes, boundary: [UInt8]) -> Bool
        where Bytes.Index == Int
    {
        let delimiter: [UInt8] = Array("--".utf8) + boundary
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), colon = UInt8(ascii: ":")
        var searchFrom = body.startIndex
        while let start = body[searchFrom...].firstIndex(of: delimiter[0]) {
            searchFrom = start + 1
            guard body.endIndex - start >= delimiter.count, body[start..<(start + delimiter.count)].elementsEqual(delimiter) else { continue }
            // Skip the rest of the delimiter's line, then check each header line's name.
            guard var line = body[(start + delimiter.count)...].firstIndex(of: cr).map({ $0 + 1 }) else { return true }
            while line < body.endIndex {
                if body[line] == lf { line += 1 }
                let end = body[line...].firstIndex(of: cr) ?? body.endIndex
                if end == line { break }  // the blank line: the part's body follows
                let nameEnd = body[line..<end].firstIndex(of: colon) ?? end
                if body[line..<nameEnd].contains(where: { $0 >= 0x80 }) { return false }
                line = end + 1
            }
        }
        return true
    }

    /// `key=value` or `key="value"` from a header such as Content-Type or Content-Disposition.
    public static func parameter(_ key: String, in header: String) -> String? {
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
