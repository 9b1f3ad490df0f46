import Foundation
import HarkClassifier
import HarkEngine
import Testing
import TestSupport

extension ServeSuites {
    /// `POST /v1/classify` and the informational routes over real sockets, while the demo streams.
    @Suite(.serialized) struct ClassifyEndpointTests {
        let model = TestPaths.shippedModelCard

        /// A fold-5 clip the shipped network names correctly (by the PyTorch reference's verdict).
        func knownClip() throws -> (path: String, label: String) {
            let fixture = try ParityFixture.load(ParityFixture.shippedModelName)
            let clip = try #require(fixture.clips.first { $0.verdict == $0.target })
            return (TestPaths.esc50Clip(clip.file), clip.label)
        }

        func multipart(_ data: Data, filename: String, boundary: String) -> Data {
            var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\n".utf8)
            body += Data("Content-Type: audio/ogg\r\n\r\n".utf8) + data + Data("\r\n--\(boundary)--\r\n".utf8)
            return body
        }

        @Test func eachBodyFormGetsTheSeedAnswerAndBadUploadsAClearError() async throws {
            let (path, label) = try knownClip()
            let audio = try Data(contentsOf: URL(fileURLWithPath: path))
            let serve = try await ServeProcess.start(["--model", model, "--demo"])
            defer { serve.process.process.terminate() }
            let url = serve.url("/v1/classify")
            let forms: [(String, Data, [String: String])] = [
                ("raw", audio, ["Content-Type": "audio/ogg"]),
                ("multipart", multipart(audio, filename: "clip.ogg", boundary: "hArKbOuNdArY"),
                 ["Content-Type": "multipart/form-data; boundary=hArKbOuNdArY"]),
                ("json", try JSONSerialization.data(withJSONObject: ["audio_data": audio.base64EncodedString()]),
                 ["Content-Type": "application/json"]),
            ]
            let layers = try #require(try await HTTPExchange.send(serve.url("/v1/model")).json?["layers"] as? [[String: Any]])
            for (form, body, headers) in forms {
                let r = try await HTTPExchange.send(url, method: "POST", body: body, headers: headers)
                #expect(r.status == 200, "\(form): \(r.status) \(r.text.prefix(300))")
                let json = try #require(r.json, "\(form): not JSON")
                for key in ["predictions", "visualization", "input_spectrogram", "waveform"] {
                    #expect(json[key] != nil, "\(form) lacks \(key)")
                }
                let predictions = try #require(json["predictions"] as? [[String: Any]])
                #expect(predictions.count == 3)
                #expect(predictions.first?["class"] as? String == label, "\(form): \(predictions)")
                #expect(predictions.allSatisfy { $0["confidence"] is Double && $0["emoji"] is String })
                let visualization = try #require(json["visualization"] as? [String: Any])
                #expect(visualization.count == layers.count, "every exposed layer")
                let layer1 = try #require(visualization["layer1"] as? [String: Any])
                let shape = try #require(layer1["shape"] as? [Int])
                let rows = try #require(layer1["values"] as? [[Double]])
                #expect(shape.count == 2 && rows.count == shape[0] && rows.allSatisfy { $0.count == shape[1] })
                let spectrogram = try #require(json["input_spectrogram"] as? [String: Any])
                #expect(spectrogram["shape"] as? [Int] == [64, 216])
                let waveform = try #require(json["waveform"] as? [String: Any])
                #expect((waveform["values"] as? [Double])?.count ?? 0 <= 8000)
                #expect(waveform["sample_rate"] as? Int == 44100)
                #expect(abs((waveform["duration"] as? Double ?? 0) - 5) < 0.01)
                if form == "multipart" { #expect(json["filename"] as? String == "clip.ogg") }
            }

            // Too big: 20 MB + 1 byte.
            let huge = try await HTTPExchange.send(url, method: "POST", body: Data(count: 20 * 1024 * 1024 + 1),
                                                   headers: ["Content-Type": "audio/wav"])
            #expect(huge.status == 413, "\(huge.status) \(huge.text)")
            // Not audio: as text, and as a file that says it is audio.
            let text = Data("just some words, no audio here\n".utf8)
            let asText = try await HTTPExchange.send(url, method: "POST", body: text, headers: ["Content-Type": "text/plain"])
            #expect(asText.status == 415, "\(asText.status) \(asText.text)")
            let lying = try await HTTPExchange.send(url, method: "POST", body: text, headers: ["Content-Type": "audio/wav"])
            #expect([400, 415].contains(lying.status), "\(lying.status) \(lying.text)")
            #expect(lying.text.contains("unsupported or unrecognised audio format") && !lying.text.contains("/tmp"), "\(lying.text)")
            // Invalid base64.
            let badBase64 = try await HTTPExchange.send(url, method: "POST", body: Data(#"{"audio_data": "%%%not base64%%%"}"#.utf8),
                                                        headers: ["Content-Type": "application/json"])
            #expect(badBase64.status == 400 && badBase64.text.contains("base64"), "\(badBase64.status) \(badBase64.text)")
            // Longer than the limit (a second more than --max-upload-seconds would take; here: 11 minutes of silence).
            let long = WAVWriter.data([Float](repeating: 0, count: 8000 * 660), channels: 1, rate: 8000)
            let tooLong = try await HTTPExchange.send(url, method: "POST", body: long, headers: ["Content-Type": "audio/wav"])
            #expect(tooLong.status == 413 && tooLong.text.contains("600"), "\(tooLong.status) \(tooLong.text)")

            // The server still serves, and the live stream still runs without dropping windows.
            // The refusals come back in well under the first window's 5 s (a declared 20 MB + 1 is
            // refused unread): wait for the stream's first verdict before comparing.
            var first: [String: Any] = [:]
            for _ in 0..<200 {
                first = try #require(try await HTTPExchange.send(serve.url("/v1/status")).json?["summary"] as? [String: Any])
                if (first["windows_classified"] as? Int ?? 0) > 0 { break }
                try await pause(0.1)
            }
            try await pause(2.5)
            let later = try #require(try await HTTPExchange.send(serve.url("/v1/status")).json?["summary"] as? [String: Any])
            #expect((later["windows_classified"] as? Int ?? 0) > (first["windows_classified"] as? Int ?? 0))
            #expect(later["windows_dropped"] as? Int == 0, "\(later)")
            let again = try await HTTPExchange.send(url, method: "POST", body: audio, headers: ["Content-Type": "audio/ogg"])
            #expect(again.status == 200)
        }

        /// What the server shows of a file is what the engine computes through `hark classify --maps`.
        @Test func theVisualizationEqualsHarkClassifyMaps() async throws {
            let (path, _) = try knownClip()
            let classify = try await HarkProcess.run(["classify", "--model", model, "--maps", path])
            #expect(classify.status == 0, "\(classify.stderr)")
            let line = try #require(classify.lines.first)
            let fromCLI = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let maps = try #require(fromCLI["maps"] as? [String: Any])

            let serve = try await ServeProcess.start(["--model", model, "--demo"])
            defer { serve.process.process.terminate() }
            let r = try await HTTPExchange.send(serve.url("/v1/classify"), method: "POST",
                                                body: try Data(contentsOf: URL(fileURLWithPath: path)),
                                                headers: ["Content-Type": "audio/ogg"])
            let visualization = try #require(r.json?["visualization"] as? [String: Any])
            #expect(Set(visualization.keys) == Set(maps.keys) && maps.count > 10)
            for (layer, value) in maps {
                let a = try JSONSerialization.data(withJSONObject: value, options: .sortedKeys)
                let b = try JSONSerialization.data(withJSONObject: try #require(visualization[layer]), options: .sortedKeys)
                #expect(a == b, "\(layer) differs")
            }
        }

        @Test func theModelDevicesAndStatusAreDescribed() async throws {
            let serve = try await ServeProcess.start(["--model", model, "--demo"])
            defer { serve.process.process.terminate() }
            let info = try #require(try await HTTPExchange.send(serve.url("/v1/model")).json)
            let labels = try #require(info["labels"] as? [[String: Any]])
            #expect(labels.count == 50 && labels.first?["name"] as? String == "dog" && labels.first?["emoji"] as? String == "🐕")
            let layers = try #require(info["layers"] as? [[String: Any]])
            let conv1 = try #require(layers.first { $0["name"] as? String == "conv1" })
            #expect(conv1["shape"] as? [Int] == [32, 32, 108])
            let evaluation = try #require(info["evaluation"] as? [String: Any])
            #expect((evaluation["fold5_top1"] as? Double ?? 0) > 0.7 && (evaluation["protocol"] as? String)?.contains("fold") == true)
            let devices = try await HTTPExchange.send(serve.url("/v1/devices"))
            #expect(devices.status == 200 && devices.json?["devices"] is [Any])
            let status = try #require(try await HTTPExchange.send(serve.url("/v1/status")).json)
            #expect(status["version"] as? String != nil && (status["source"] as? String)?.hasPrefix("file:") == true)
            #expect(((status["live"] as? [String: Any])?["capture"] as? [String: Any])?["state"] as? String == "running")
        }
    }
}
