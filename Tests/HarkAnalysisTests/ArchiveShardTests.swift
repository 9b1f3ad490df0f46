import Foundation
import HarkAnalysis
import Testing
import TestSupport

@Suite struct ArchiveShardTests {
    @Test func shardsSplitAListWithoutOverlapAndAlwaysAlike() {
        let paths = (0..<300).map { "archive/day-\($0 / 24)/clip-\($0).flac" }
        let shards = (0..<4).map { ArchiveShard(index: $0, count: 4) }
        let parts = shards.map { s in paths.filter(s.contains) }
        #expect(parts.map(\.count).reduce(0, +) == paths.count)
        #expect(Set(parts.flatMap { $0 }).count == paths.count)
        #expect(parts.allSatisfy { $0.count > 40 })   // roughly even
        #expect(parts == shards.map { s in paths.filter(s.contains) })
        #expect(ArchiveShard(parsing: "3/4") == shards[3])
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b"] { #expect(ArchiveShard(parsing: bad) == nil, "\(bad)") }
    }

    @Test func aTornLastLineIsCutAndCompleteFilesAreSkipped() throws {
        let url = try TestPaths.temporaryDirectory().appendingPathComponent("out.jsonl")
        try Data(#"{"file":"a.wav","start":0}"#.utf8 + [0x0A] + #"{"file":"b.wav","start":0}"#.utf8 + [0x0A]
                 + #"{"file":"c.wa"#.utf8).write(to: url)
        let out = try ResumableJSONLines(path: url.path)
        #expect(out.done == ["a.wav", "b.wav"])
        try out.append(file: "c.wav", lines: [Data(#"{"file":"c.wav","start":0}"#.utf8), Data(#"{"file":"c.wav","start":1}"#.utf8)])
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4 && lines.last == #"{"file":"c.wav","start":1}"#)
        #expect(try ResumableJSONLines(path: url.path).done == ["a.wav", "b.wav", "c.wav"])
    }
}
