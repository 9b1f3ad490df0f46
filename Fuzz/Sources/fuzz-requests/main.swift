// libFuzzer target: what a client sends `hark serve` — an upload body under each content type
// (raw audio, JSON with base64, multipart/form-data) and a live-socket subscribe message or query
// string. Every input must end in a value or a typed error, never a crash.
import Foundation
import FuzzDriver
import HarkLiveProtocol
import HarkUploads
import NIOCore

let layers = ["conv1", "layer1", "layer1.0", "layer2", "layer3", "layer4"]

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let body = ByteBuffer(bytes: bytes.dropFirst())
    switch bytes[0] % 5 {
    case 0: _ = try? UploadBody.parse(contentType: "audio/wav", body: body)
    case 1: _ = try? UploadBody.parse(contentType: "application/json", body: body)
    case 2: _ = try? UploadBody.parse(contentType: "multipart/form-data; boundary=hArK", body: body)
    case 3:
        // A content type from the input too: the header's own parameters are parsed.
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        let split = text.firstIndex(of: "\n") ?? text.endIndex
        _ = try? UploadBody.parse(contentType: String(text[..<split]), body: ByteBuffer(string: String(text[split...])))
    default:
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        if let message = try? JSONDecoder().decode(LiveSubscriptionRequest.Message.self, from: Data(text.utf8)) {
            var request = LiveSubscriptionRequest()
            try? request.apply(message, layers: layers)
            _ = request.interest
        }
        var query: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            query[String(kv.first ?? "")] = kv.count > 1 ? String(kv[1]) : ""
        }
        _ = try? LiveSubscriptionRequest(query: query, layers: layers)
    }
    return 0
}

runLibFuzzer { data, size in fuzz(data, size) }
