import Foundation
import Testing
import TestSupport

extension ServeSuites {
    /// SIGTERM while live clients are connected and events are open.
    @Suite struct ServeShutdownTests {
        @Test func sigtermEndsOpenEventsEverywhereClosesClientsAndExitsWithinTwoSeconds() async throws {
            // Thresholds so low that every class's event is open when the signal comes.
            let serve = try await ServeProcess.start(["--model", TestPaths.shippedModelCard, "--demo",
                                                      "--on-threshold", "0.0001", "--off-threshold", "0.0001", "--confirm", "1/1"])
            let clients = [SocketClient(serve.webSocketURL("/v1/live?kinds=event")),
                           SocketClient(serve.webSocketURL("/v1/live?kinds=event,window,maps&layers=layer1"))]
            defer { clients.forEach { $0.cancel() } }
            for client in clients {
                #expect(try await client.waitFor(timeout: 30) { $0.type == "event" } != nil, "no event reached a client")
            }
            let (exitSeconds, result) = try await serve.stopTimed()
            #expect(result.status == 0, "\(result.stderr.suffix(2000))")
            #expect(exitSeconds < 2.0, "exited \(exitSeconds) s after SIGTERM")

            func balanced(_ events: [[String: Any]]) -> (started: Set<String>, ended: Set<String>) {
                (Set(events.filter { $0["phase"] as? String == "start" }.compactMap { $0["id"] as? String }),
                 Set(events.filter { $0["phase"] as? String == "end" }.compactMap { $0["id"] as? String }))
            }
            let stdout = result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let printed = balanced(stdout)
            #expect(!printed.started.isEmpty && printed.started == printed.ended)
            for client in clients {
                #expect(await client.finished(timeout: 5))
                // Every event a client heard of (its start, or an update when it connected late), it
                // saw end; and those are the events stdout ended.
                let lines = client.of("event").map(\.json)
                let heard = Set(lines.compactMap { $0["id"] as? String })
                let ended = Set(lines.filter { $0["phase"] as? String == "end" }.compactMap { $0["id"] as? String })
                #expect(!ended.isEmpty && heard == ended && ended.isSubset(of: printed.ended), "\(heard.subtracting(ended))")
                #expect(client.closed?.code == "goingAway", "closed with \(String(describing: client.closed))")
            }
        }
    }
}

extension ServeSuites {
    /// SIGTERM while uploads are being analysed and waiting: they are answered at once and the
    /// server still exits within two seconds (once, a 20-s exit waited for the analyses to finish).
    @Suite struct ServeShutdownUnderUploadsTests {
        @Test func sigtermAnswersUploadsInFlightAndExitsWithinTwoSeconds() async throws {
            let serve = try await ServeProcess.start(["--model", TestPaths.shippedModelCard, "--demo"])
            // Ten minutes at the smallest hop: an analysis of many seconds.
            let long = WAVWriter.data([Float](repeating: 0.05, count: 8000 * 590), channels: 1, rate: 8000)
            let url = serve.url("/v1/classify?hop=0.25&record=false")
            let uploads = (0..<3).map { _ in
                Task { try await HTTPExchange.send(url, method: "POST", body: long, headers: ["Content-Type": "audio/wav"]) }
            }
            try await pause(3)  // the first is in analysis, the others wait
            let (exitSeconds, result) = try await serve.stopTimed()
            #expect(result.status == 0, "\(result.stderr.suffix(2000))")
            #expect(exitSeconds < 2.0, "exited \(exitSeconds) s after SIGTERM")
            // The analysis stops between windows before the process exits: exiting under a running
            // BLAS call once crashed in OpenBLAS's exit handlers.
            #expect(!result.stderr.contains("crashed"), "\(result.stderr.prefix(2000))")
            for upload in uploads {
                switch await upload.result {
                case .success(let answer): #expect(answer.status == 503 && answer.text.contains("shutting down"), "\(answer.status) \(answer.text)")
                case .failure: break  // the connection closed with the server: also an answer, not a hang
                }
            }
        }
    }
}
