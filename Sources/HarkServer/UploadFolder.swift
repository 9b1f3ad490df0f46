// The private folder uploads are written to while they are analysed, and the sweep of folders that a
// killed `hark serve` left behind.
import Foundation

/// Owned by the thread that builds the service (`ServeApplication.build`); the folder it returns is
/// used by the upload handlers and removed by `Built.run` when the service ends.
enum UploadFolder {
    static let namePrefix = "hark-uploads-"

    /// Removes the upload folders of `hark serve` processes that no longer run (killed or crashed:
    /// their partial uploads would otherwise stay until the temporary directory is cleaned), then
    /// creates this process's own, readable by this user only. Returns it and how many were removed.
    static func create(in parent: URL = FileManager.default.temporaryDirectory) throws -> (folder: URL, swept: Int) {
        let swept = sweepAbandoned(in: parent)
        let folder = parent.appendingPathComponent("\(namePrefix)\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return (folder, swept)
    }

    /// Removes `hark-uploads-PID` folders owned by this user whose process is gone. A folder of a live
    /// process (another `hark serve`, or a process that reused the id) is left alone.
    static func sweepAbandoned(in parent: URL) -> Int {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: parent.path) else { return 0 }
        var swept = 0
        for name in names where name.hasPrefix(namePrefix) {
            guard let pid = pid_t(name.dropFirst(namePrefix.count)), pid > 0, pid != getpid(), !isRunning(pid) else { continue }
            let folder = parent.appendingPathComponent(name)
            // Another user's folder is not ours to remove (and a sticky /tmp would refuse anyway).
            guard let owner = (try? files.attributesOfItem(atPath: folder.path))?[.ownerAccountID] as? NSNumber,
                  owner.uint32Value == getuid() else { continue }
            if (try? files.removeItem(at: folder)) != nil { swept += 1 }
        }
        return swept
    }

    /// Whether a process with this id exists (EPERM: it does, under another user).
    private static func isRunning(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
}
