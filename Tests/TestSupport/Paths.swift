import Foundation
import Synchronization

/// Locations the tests share: the package root, the parity fixtures, ESC-50, the built binary.
public enum TestPaths {
    /// The package root (this file is Tests/TestSupport/Paths.swift).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static let fixtures = root.appendingPathComponent("Tests/Fixtures")
    public static let models = root.appendingPathComponent("Models")

    /// ESC-50 beside the project (`../shared/datasets/esc50`), or $HARK_ESC50.
    public static var esc50: URL {
        if let env = ProcessInfo.processInfo.environment["HARK_ESC50"] { return URL(fileURLWithPath: env) }
        return root.deletingLastPathComponent().appendingPathComponent("shared/datasets/esc50")
    }

    public static func esc50Clip(_ name: String) -> String {
        esc50.appendingPathComponent("audio").appendingPathComponent(name).path
    }

    /// A fresh private temporary folder, removed when the test process exits (kept when
    /// `HARK_KEEP_TEST_FILES` is set, to look at after a failure).
    public static func temporaryDirectory(_ label: String = "hark-test") throws -> URL {
        _ = removeFoldersAtExit
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        madeFolders.withLock { $0.append(url) }
        return url
    }
}

/// The folders `TestPaths.temporaryDirectory` made in this process (any test's thread).
private let madeFolders = Mutex<[URL]>([])

/// Registers, once, their removal at the process's exit: tests end before it, and a crashed run
/// keeps them for a look.
private let removeFoldersAtExit: Void = {
    atexit {
        guard ProcessInfo.processInfo.environment["HARK_KEEP_TEST_FILES"] == nil else { return }
        for url in madeFolders.withLock({ $0 }) { try? FileManager.default.removeItem(at: url) }
    }
}()
