// The private folder uploads are written to while they are analysed, and the sweep of folders that a
// killed `hark serve` left behind.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// This process's upload folder (`hark-uploads-PID-ID` under the temporary directory, mode 0700),
/// marked in use by an exclusive `flock` on its `.lock` file for as long as the process lives. The
/// kernel drops the lock when the process dies, however it dies, so a later start tells an
/// abandoned folder from a live one even after PID reuse or across PID namespaces sharing a /tmp
/// (where two services can both be PID 1: hence the ID).
/// Made by the thread that builds the service (`ServeApplication.build`); removed by `Built.run`.
struct UploadFolder: Sendable {
    static let namePrefix = "hark-uploads-"
    static let lockName = ".lock"

    let url: URL
    /// The descriptor holding the lock; closed by `remove()`.
    private let lock: Int32

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Removes the abandoned upload folders of earlier `hark serve` processes (killed or crashed:
    /// their partial uploads would otherwise stay until the temporary directory is cleaned), then
    /// makes and locks this process's own. Returns it and how many were removed.
    static func create(in parent: URL = FileManager.default.temporaryDirectory) throws(Failure) -> (folder: UploadFolder, swept: Int) {
        let swept = sweepAbandoned(in: parent)
        let id = UUID().uuidString.prefix(8).lowercased()
        let url = parent.appendingPathComponent("\(namePrefix)\(getpid())-\(id)")
        // Made and locked under a name the sweep does not match, then renamed: a sweep by another
        // process starting at the same moment never sees this folder unlocked.
        let making = parent.appendingPathComponent(".\(namePrefix)\(getpid())-\(id)")
        do {
            try FileManager.default.createDirectory(at: making, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure(description: "cannot create an upload folder in \(parent.path): \(error.localizedDescription)")
        }
        let fd = open(making.appendingPathComponent(lockName).path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0, rename(making.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            try? FileManager.default.removeItem(at: making)
            throw Failure(description: "cannot make the upload folder \(url.path): \(reason)")
        }
        return (UploadFolder(url: url, lock: fd), swept)
    }

    /// Removes the folder with whatever is in it, then lets go of its lock.
    func remove() {
        try? FileManager.default.removeItem(at: url)
        close(lock)
    }

    /// Removes the `hark-uploads-…` folders in `parent`, owned by this user, that no process holds: a
    /// folder whose lock can be taken, or one from before the locks (`hark-uploads-PID`, no lock
    /// file) whose process is gone.
    static func sweepAbandoned(in parent: URL) -> Int {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: parent.path) else { return 0 }
        var swept = 0
        for name in names where name.hasPrefix(namePrefix) {
            let folder = parent.appendingPathComponent(name)
            // Another user's folder is not ours to remove (and a sticky /tmp would refuse anyway).
            guard let owner = (try? files.attributesOfItem(atPath: folder.path))?[.ownerAccountID] as? NSNumber,
                  owner.uint32Value == getuid() else { continue }
            let fd = open(folder.appendingPathComponent(lockName).path, O_RDONLY | O_CLOEXEC)
            let abandoned: Bool
            if fd >= 0 {
                abandoned = flock(fd, LOCK_EX | LOCK_NB) == 0
            } else if let pid = pid_t(name.dropFirst(namePrefix.count)), pid > 0 {
                abandoned = kill(pid, 0) != 0 && errno == ESRCH
            } else {
                abandoned = false
            }
            if abandoned, (try? files.removeItem(at: folder)) != nil { swept += 1 }
            if fd >= 0 { close(fd) }
        }
        return swept
    }
}
