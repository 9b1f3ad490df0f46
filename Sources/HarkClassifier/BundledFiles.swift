import Foundation

/// Where files Hark ships under `Models/` may be: the working directory, an install prefix beside
/// the executable (`PREFIX/bin/hark` → `PREFIX/share/hark/Models`), the build folder's package
/// (`.build/<config>/hark` → the package root), and the source tree this library was built from.
enum BundledFiles {
    static func candidates(_ relativePath: String, executable: String = CommandLine.arguments.first ?? "hark",
                           sourceFile: String = #filePath) -> [String] {
        var out = [FileManager.default.currentDirectoryPath + "/Models/" + relativePath]
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        out.append(exe.deletingLastPathComponent().appendingPathComponent("share/hark/Models/\(relativePath)").path)
        var dir = exe
        for _ in 0..<4 {
            out.append(dir.appendingPathComponent("Models/\(relativePath)").path)
            dir = dir.deletingLastPathComponent()
        }
        // Sources/HarkAnalysis/BundledFiles.swift → the package root.
        let root = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        out.append(root.appendingPathComponent("Models/\(relativePath)").path)
        return out
    }

    static func first(_ relativePath: String) -> String? {
        candidates(relativePath).first { FileManager.default.fileExists(atPath: $0) }
    }
}
