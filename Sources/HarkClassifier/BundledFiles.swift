import Foundation

/// Where files Hark ships (`Models/`, `Dashboard/`) may be: the working directory, an install
/// prefix beside the executable (`PREFIX/bin/hark` → `PREFIX/share/hark/Models`), the build
/// folder's package (`.build/<config>/hark` → the package root), and the source tree this library
/// was built from.
public enum BundledFiles {
    static func candidates(_ relativePath: String, in folder: String = "Models",
                           executable: String = CommandLine.arguments.first ?? "hark",
                           sourceFile: String = #filePath) -> [String] {
        let path = relativePath.isEmpty ? folder : "\(folder)/\(relativePath)"
        var out = [FileManager.default.currentDirectoryPath + "/" + path]
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        out.append(exe.deletingLastPathComponent().appendingPathComponent("share/hark/\(path)").path)
        var dir = exe
        for _ in 0..<4 {
            out.append(dir.appendingPathComponent(path).path)
            dir = dir.deletingLastPathComponent()
        }
        // Sources/HarkClassifier/BundledFiles.swift → the package root.
        let root = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        out.append(root.appendingPathComponent(path).path)
        return out
    }

    static func first(_ relativePath: String, in folder: String = "Models") -> String? {
        candidates(relativePath, in: folder).first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The dashboard's folder (`Dashboard/`, with its index.html), wherever it was installed.
    public static var dashboard: String? {
        candidates("", in: "Dashboard").first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }
}
