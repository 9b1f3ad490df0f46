// Upload bodies parsed without a server: the three forms, and the inputs the fuzzer found.
import Foundation
import HarkUploads
import NIOCore
import Testing
import TestSupport

@Suite struct UploadBodyTests {
    static let boundary = "hArK"

    static func multipart(headerName: String = "Content-Disposition", filename: String = "a.wav", audio: [UInt8]) -> ByteBuffer {
        var body = Array("--\(boundary)\r\n\(headerName): form-data; name=\"file\"; filename=\"\(filename)\"\r\n".utf8)
        body += Array("Content-Type: audio/wav\r\n\r\n".utf8) + audio + Array("\r\n--\(boundary)--\r\n".utf8)
        return ByteBuffer(bytes: body)
    }

    @Test func aMultipartFileKeepsItsBytesAndItsUTF8Name() throws {
        let audio: [UInt8] = [0, 1, 2, 0xff, 0x80, 13, 10, 45, 45]
        let upload = try UploadBody.parse(contentType: "multipart/form-data; boundary=\(Self.boundary)",
                                          body: Self.multipart(filename: "chien-aboie-été.wav", audio: audio))
        #expect(Array(upload.bytes) == audio)
        #expect(upload.filename == "chien-aboie-été.wav")
    }

    /// Found by fuzz-requests: MultipartKit traps on a header name byte ≥ 0x80 (the whole service
    /// would stop); such a body is refused as malformed before the parser sees it.
    @Test func aHeaderNameThatIsNotASCIIIsABadRequest() throws {
        let body = Self.multipart(headerName: "Content-D\u{e9}sposition", audio: [1, 2, 3])
        #expect(throws: UploadError(kind: .badRequest,
                                    description: "the multipart/form-data body is malformed: a part's header name is not ASCII")) {
            try UploadBody.parse(contentType: "multipart/form-data; boundary=\(Self.boundary)", body: body)
        }
    }

    /// Every input the fuzzers ever crashed on (Fuzz/regressions/requests) as a multipart body
    /// under the fuzzer's boundary: a value or a typed error.
    @Test func everyFuzzRegressionIsParsedOrRefused() throws {
        let folder = TestPaths.root.appendingPathComponent("Fuzz/regressions/requests")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!inputs.isEmpty)
        for name in inputs {
            let bytes = try Data(contentsOf: folder.appendingPathComponent(name))
            for type in ["multipart/form-data; boundary=\(Self.boundary)", "application/json", "audio/wav"] {
                do {
                    _ = try UploadBody.parse(contentType: type, body: ByteBuffer(bytes: bytes.dropFirst()))
                } catch {
                    #expect(!error.description.isEmpty, "\(name) as \(type)")
                }
            }
        }
    }

    @Test func jsonBase64AndItsDataURLFormDecode() throws {
        let audio: [UInt8] = [82, 73, 70, 70, 0, 1]
        let plain = try UploadBody.parse(contentType: "application/json",
                                         body: ByteBuffer(string: "{\"audio_data\": \"\(Data(audio).base64EncodedString())\"}"))
        #expect(Array(plain.bytes) == audio)
        let url = try UploadBody.parse(contentType: "application/json; charset=utf-8",
                                       body: ByteBuffer(string: "{\"audio_data\": \"data:audio/wav;base64,\(Data(audio).base64EncodedString())\"}"))
        #expect(Array(url.bytes) == audio)
        #expect(throws: UploadError.self) {
            try UploadBody.parse(contentType: "application/json", body: ByteBuffer(string: "{\"audio_data\": \"@@@\"}"))
        }
    }
}
