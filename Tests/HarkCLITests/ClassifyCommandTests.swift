import Foundation
import Testing
import TestSupport

/// `hark classify` as a user runs it.
@Suite struct ClassifyCommandTests {
    let model = TestPaths.shippedModelCard

    func json(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func fold5ClipsGetThePyTorchReferenceVerdict() async throws {
        let fixture = try ParityFixture.load(ParityFixture.shippedModelName)
        let paths = fixture.clips.map { TestPaths.esc50Clip($0.file) }
        let r = try await HarkProcess.run(["classify", "--model", model] + paths)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.lines.count == fixture.clips.count)
        for (line, clip) in zip(r.lines, fixture.clips) {
            let o = try json(line)
            #expect((o["file"] as? String)?.hasSuffix(clip.file) == true)
            #expect(o["start"] as? Double == 0 && o["end"] as? Double == 5)
            let top = try #require(o["top"] as? [[String: Any]])
            #expect(top.count == 3)
            #expect(top.first?["index"] as? Int == clip.top1)
            let scores = top.compactMap { $0["score"] as? Double }
            #expect(scores == scores.sorted(by: >) && scores.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
    }

    /// The engine's multi-threaded path (its own loops split over workers, OpenBLAS on 2 threads)
    /// gives the 1-thread answer; the test process itself runs BLAS on one thread.
    @Test func twoThreadsGiveTheOneThreadScores() async throws {
        let paths = try TestPaths.shippedModelClips()
        let arguments = { (threads: Int) in ["classify", "--model", self.model, "--threads", "\(threads)", "--top-k", "5"] + paths }
        let runs = [try await HarkProcess.run(arguments(1)), try await HarkProcess.run(arguments(2))]
        #expect(runs.allSatisfy { $0.status == 0 }, "\(runs.map(\.stderr))")
        #expect(runs[0].lines.count == paths.count && runs[1].lines.count == paths.count)
        for (one, two) in zip(runs[0].lines, runs[1].lines) {
            let a = try #require(try json(one)["top"] as? [[String: Any]]), b = try #require(try json(two)["top"] as? [[String: Any]])
            #expect(a.compactMap { $0["index"] as? Int } == b.compactMap { $0["index"] as? Int })
            for (x, y) in zip(a.compactMap { $0["score"] as? Double }, b.compactMap { $0["score"] as? Double }) {
                #expect(abs(x - y) <= 1e-4, "\(x) vs \(y)")
            }
        }
    }

    @Test func textShowsEmojiAndBars() async throws {
        let clip = try TestPaths.shippedModelClips()[0]
        let r = try await HarkProcess.run(["classify", "--model", model, "--format", "text", "--top-k", "2", clip])
        #expect(r.status == 0)
        let lines = r.lines
        try #require(lines.count == 3, "\(r.stdout)")
        #expect(lines[0].hasPrefix(clip))
        #expect(lines[1].contains("%") && lines[1].contains("█") || lines[1].contains("▏"))
        #expect(lines[1].unicodeScalars.contains { $0.properties.isEmojiPresentation || $0.properties.isEmoji && $0.value > 0x2000 })
    }

    @Test func longFilesGetAWindowPerHopWithStartTimes() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = try WAVWriter.write(WAVWriter.tone(frequency: 880, seconds: 12, rate: 16000), rate: 16000,
                                       to: dir.appendingPathComponent("long.wav")).path
        let r = try await HarkProcess.run(["classify", "--model", model, "--hop", "2", path])
        #expect(r.status == 0)
        let starts = try r.lines.map { try json($0)["start"] as? Double }
        #expect(starts == [0, 2, 4, 6, 8])  // the last window covers the tail, zero-padded
    }

    @Test func badFilesAreNamedAndTheRestStillRun() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let text = dir.appendingPathComponent("notes.ogg")
        try Data("hello".utf8).write(to: text)
        let good = try TestPaths.shippedModelClips()[0]
        let r = try await HarkProcess.run(["classify", "--model", model, text.path, "/nonexistent.wav", good])
        #expect(r.status == 1)
        #expect(r.lines.count == 1)
        #expect(r.stderr.contains("notes.ogg") && r.stderr.contains("unsupported"))
        #expect(r.stderr.contains("/nonexistent.wav: no such file"))
    }

    /// OpenBLAS's generic kernel halves the speed; when the environment forces it on a CPU that can
    /// run a faster one, the user is told which, on stderr, and the results on stdout are unchanged.
    @Test func theGenericBLASKernelIsReportedWithTheFix() async throws {
        let clip = try TestPaths.shippedModelClips()[0]
        let generic = try await HarkProcess.run(["classify", "--model", model, clip],
                                                environment: ["OPENBLAS_CORETYPE": "Prescott"])
        let chosen = try await HarkProcess.run(["classify", "--model", model, clip],
                                               environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(generic.status == 0 && chosen.status == 0, "\(generic.stderr)\(chosen.stderr)")
        expectGenericKernelAdvice(onStderr: generic.stderr)
        #expect(!chosen.stderr.contains("Prescott"))
        let top1 = { (line: String) throws -> Int? in
            ((try self.json(line))["top"] as? [[String: Any]])?.first?["index"] as? Int
        }
        try #require(generic.lines.count == 1 && chosen.lines.count == 1, "\(generic.stdout)\(chosen.stdout)")
        #expect(try top1(generic.lines[0]) == top1(chosen.lines[0]))
    }

    @Test func aMissingModelIsExplained() async throws {
        let r = try await HarkProcess.run(["classify", "--model", "/nonexistent/m.json", "x.wav"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/m.json"))
    }
}
