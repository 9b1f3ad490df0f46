import Foundation
import Testing
import TestSupport

/// `hark --version` answers scripts and bug reports without running anything else.
@Suite struct VersionTests {
    @Test func versionPrintsOneSemanticVersionLine() async throws {
        let r = try await HarkProcess.run(["--version"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stdout)")
        let version = try #require(lines.first).trimmingCharacters(in: .whitespaces)
        #expect(version.wholeMatch(of: /\d+\.\d+\.\d+/) != nil, "not a version: \(version)")
    }
}
