// Hostile input, table-driven, through `hark classify` and `POST /v1/classify` alike; then what only
// a server meets (a 100-MB body, a slow-loris upload, 1,000 uploads at once) while the live stream runs.
import Foundation
import Testing
import TestSupport

extension ServeSuites {
    @Suite(.serialized) struct HostileInputTests {
        enum Outcome: Sendable {
            case classified
            /// Refused: the API's status, and what both the API's error and the CLI's stderr say.
            case refused(status: Int, says: String)
        }

        struct Case: Sendable, CustomStringConvertible {
            var description: String
            var file: Data
            var outcome: Outcome
        }

        static let corpus = TestPaths.root.appendingPathComponent("Fuzz/corpus/decode")
        static func corpusFile(_ name: String) throws -> Data { try Data(contentsOf: corpus.appendingPathComponent(name)) }

        static func cases() throws -> [Case] {
            let second = { (rate: Int, channels: Int) in
                WAVWriter.data((0..<(rate * channels)).map { Float(sin(Double($0 / channels) * 0.05)) * 0.3 }, channels: channels, rate: rate)
            }
            let unsupported = "unsupported or unrecognised audio format"
            return [
                Case(description: "a truncated WAV", file: try corpusFile("truncated.wav"), outcome: .refused(status: 400, says: "truncated")),
                Case(description: "a WAV whose header claims 2 GB", file: try Data(contentsOf: TestPaths.root
                    .appendingPathComponent("Fuzz/regressions/decode/oom-wav-data-chunk-2gb.wav")), outcome: .refused(status: 400, says: "truncated")),
                Case(description: "a WAV with a lying RIFF size", file: try corpusFile("lying-riff-size.wav"), outcome: .classified),
                Case(description: "zero frames", file: try corpusFile("zero-frames.wav"), outcome: .refused(status: 400, says: "no audio")),
                Case(description: "one sample", file: try corpusFile("one-sample.wav"), outcome: .classified),
                Case(description: "10 minutes", file: WAVWriter.data([Float](repeating: 0.01, count: 8000 * 600), channels: 1, rate: 8000),
                     outcome: .classified),
                Case(description: "8 channels", file: second(48000, 8), outcome: .classified),
                Case(description: "8 kHz", file: second(8000, 1), outcome: .classified),
                Case(description: "192 kHz", file: second(192_000, 2), outcome: .classified),
                Case(description: "24-bit", file: try corpusFile("24-bit.wav"), outcome: .classified),
                Case(description: "float with NaN and Inf", file: try corpusFile("float-nan-inf.wav"), outcome: .classified),
                Case(description: "a text file", file: try corpusFile("text.txt"), outcome: .refused(status: 415, says: unsupported)),
                Case(description: "a ZIP", file: try corpusFile("zip.zip"), outcome: .refused(status: 415, says: unsupported)),
                Case(description: "a damaged Ogg Vorbis", file: try Data(contentsOf: TestPaths.root
                    .appendingPathComponent("Fuzz/regressions/decode/leak-ogg-libvorbis-info.ogg")), outcome: .refused(status: 415, says: "malformed")),
            ]
        }

        @Test func eachFileGetsTheSameVerdictFromTheCommandLine() async throws {
            let folder = try TestPaths.temporaryDirectory("hark-hostile")
            for item in try Self.cases() {
                let path = folder.appendingPathComponent(item.description.replacingOccurrences(of: " ", with: "-")).path
                try item.file.write(to: URL(fileURLWithPath: path))
                let run = try await HarkProcess.run(["classify", "--model", TestPaths.shippedModelCard, "--hop", "10", path])
                switch item.outcome {
                case .classified:
                    #expect(run.status == 0, "\(item): \(run.stderr)")
                    let first = try JSONSerialization.jsonObject(with: Data((run.lines.first ?? "").utf8)) as? [String: Any]
                    let top = first?["top"] as? [[String: Any]] ?? []
                    #expect(top.count == 3 && top.allSatisfy { ($0["score"] as? Double)?.isFinite == true }, "\(item): \(run.stdout.prefix(300))")
                    if item.description.contains("NaN") { #expect((first?["non_finite_samples"] as? Int ?? 0) > 0) }
                case .refused(_, let says):
                    #expect(run.status != 0 && run.stdout.isEmpty, "\(item): exit \(run.status)")
                    #expect(run.stderr.contains(says) && run.stderr.contains(path), "\(item): \(run.stderr)")
                    #expect(!run.stderr.contains("Fatal error"), "\(item)")
                }
            }
        }

        @Test func theServerAnswersEachAndKeepsStreaming() async throws {
            let serve = try await ServeProcess.start(["--model", TestPaths.shippedModelCard, "--demo"],
                                                     environment: ["HARK_SERVER_REQUEST_TIMEOUT_SECONDS": "4"])
            defer { serve.process.process.terminate() }
            let before = try await summary(serve)
            let url = serve.url("/v1/classify?hop=10&record=false")
            for item in try Self.cases() {
                let r = try await HTTPExchange.send(url, method: "POST", body: item.file, headers: ["Content-Type": "audio/wav"])
                switch item.outcome {
                case .classified:
                    #expect(r.status == 200, "\(item): \(r.status) \(r.text.prefix(300))")
                    #expect((r.json?["predictions"] as? [[String: Any]])?.count == 3, "\(item)")
                    if item.description.contains("NaN") { #expect((r.json?["non_finite_samples"] as? Int ?? 0) > 0) }
                case .refused(let status, let says):
                    #expect(r.status == status, "\(item): \(r.status) \(r.text.prefix(300))")
                    let message = ((r.json?["error"] as? [String: Any])?["message"] as? String) ?? ""
                    #expect(message.contains(says) && !message.contains("/tmp"), "\(item): \(r.text.prefix(300))")
                }
            }

            // Found by fuzzing: a multipart header name with a byte ≥ 0x80 once stopped the process.
            var multipart = Data("--b0uNd\r\nContent-D\u{e9}sposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n".utf8)
            multipart += try Self.corpusFile("tone.wav") + Data("\r\n--b0uNd--\r\n".utf8)
            let torn = try await HTTPExchange.send(url, method: "POST", body: multipart,
                                                   headers: ["Content-Type": "multipart/form-data; boundary=b0uNd"])
            #expect(torn.status == 400 && torn.text.contains("not ASCII"), "\(torn.status) \(torn.text)")

            // 100 MB of JSON: refused on its Content-Length at once, and as a chunked stream at 20 MB.
            let declared = try await HTTPExchange.send(url, method: "POST", body: Data(count: 100 << 20),
                                                       headers: ["Content-Type": "application/json"])
            #expect(declared.status == 413, "\(declared.status) \(declared.text)")
            let chunked = try await flood(["big", "--port", "\(serve.port)", "--megabytes", "100", "--timeout", "30"])
            #expect(chunked["status"] as? Int == 413, "\(chunked)")
            #expect((chunked["megabytes_sent"] as? Int ?? 100) < 100, "the server read the whole 100 MB: \(chunked)")

            // A body that trickles gets 408 once the request timeout (4 s here) is past; a client that
            // sends its headers and then nothing, and one whose headers never end, are disconnected
            // after as long.
            let slow = try await flood(["slowloris", "--port", "\(serve.port)", "--interval", "0.5", "--timeout", "30"])
            let trickle = try #require(slow["trickle"] as? [String: Any]), silent = try #require(slow["silent"] as? [String: Any])
            #expect(trickle["ended"] as? Int == 408 && (trickle["after"] as? Double ?? 99) < 10, "\(slow)")
            #expect(["closed", "ConnectionResetError"].contains(silent["ended"] as? String ?? "") && (silent["after"] as? Double ?? 99) < 10,
                    "\(slow)")
            let head = try #require(slow["headers"] as? [String: Any])
            #expect(["closed", "ConnectionResetError"].contains(head["ended"] as? String ?? "") && (head["after"] as? Double ?? 99) < 10,
                    "\(slow)")

            // 1,000 uploads at once: each is analysed or told 503, and the slots come back.
            let clip = folderFile("flood.wav", WAVWriter.data(WAVWriter.tone(frequency: 440, seconds: 1, rate: 8000), channels: 1, rate: 8000))
            let crowd = try await flood(["flood", "--port", "\(serve.port)", "--count", "1000", "--file", clip, "--timeout", "120"])
            let statuses = try #require(crowd["statuses"] as? [String: Int], "\(crowd)")
            #expect(Set(statuses.keys).isSubset(of: ["200", "503"]) && statuses.values.reduce(0, +) == 1000, "\(crowd)")
            #expect((statuses["200"] ?? 0) >= 1 && (statuses["503"] ?? 0) >= 1, "\(crowd)")
            let after = try await HTTPExchange.send(url, method: "POST", body: try Data(contentsOf: URL(fileURLWithPath: clip)),
                                                    headers: ["Content-Type": "audio/wav"])
            #expect(after.status == 200, "\(after.status) \(after.text.prefix(200))")

            // The live stream went on: more windows, none dropped; memory stayed bounded.
            let later = try await summary(serve)
            #expect((later["windows_classified"] as? Int ?? 0) > (before["windows_classified"] as? Int ?? 0))
            #expect(later["windows_dropped"] as? Int == 0, "\(later)")
            let peak = try ProcessMemory.peakResidentMegabytes(pid: serve.process.process.processIdentifier)
            #expect(peak < 800, "hark serve peaked at \(peak) MB")
            print("hostile input: 1000 concurrent uploads \(statuses) in \(crowd["seconds"] ?? "?") s; slow-loris \(slow); peak RSS \(peak) MB")
        }

        func summary(_ serve: ServeProcess) async throws -> [String: Any] {
            try #require(try await HTTPExchange.send(serve.url("/v1/status")).json?["summary"] as? [String: Any])
        }

        func flood(_ arguments: [String]) async throws -> [String: Any] {
            let run = try await PythonScript.run([TestPaths.root.appendingPathComponent("scripts/upload_flood.py").path] + arguments)
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(run.json, "\(run.stdout) \(run.stderr)")
        }

        func folderFile(_ name: String, _ data: Data) -> String {
            let path = (try? TestPaths.temporaryDirectory("hark-flood"))?.appendingPathComponent(name).path ?? "/tmp/\(name)"
            FileManager.default.createFile(atPath: path, contents: data)
            return path
        }
    }
}
