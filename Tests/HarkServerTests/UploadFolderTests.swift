// The upload folder's lock and the sweep of abandoned folders, on real folders, locks and processes.
import Foundation
import Testing
@testable import HarkServer
import TestSupport

@Suite struct UploadFolderTests {
    /// A process id that no process has now: a child that has exited.
    static func deadPid() throws -> pid_t {
        let child = try Process.run(URL(fileURLWithPath: "/bin/true"), arguments: [])
        child.waitUntilExit()
        return child.processIdentifier
    }

    static func makeFolder(_ parent: URL, _ name: String, lockFile: Bool) throws -> URL {
        let folder = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(count: 4096).write(to: folder.appendingPathComponent("partial-upload"))
        if lockFile { try Data().write(to: folder.appendingPathComponent(UploadFolder.lockName)) }
        return folder
    }

    /// The lock decides, not the process id: a folder whose lock another process holds stays even
    /// when its name's id is dead (another PID namespace), one whose lock is free goes even when its
    /// name's id is alive (PID reuse). Folders from before the locks go when their process is gone.
    @Test func theSweepRemovesOnlyFoldersNoProcessHolds() throws {
        let parent = try TestPaths.temporaryDirectory("hark-upload-folders")
        let dead = try Self.deadPid()
        let held = try Self.makeFolder(parent, "hark-uploads-\(dead)-held", lockFile: true)
        // Another process holding the lock: a shell that takes it on descriptor 9 and becomes `sleep`.
        let holder = try Process.run(URL(fileURLWithPath: "/bin/sh"),
                                     arguments: ["-c", "exec 9<\"$0\" && flock -x 9 && exec sleep 60",
                                                 held.appendingPathComponent(UploadFolder.lockName).path])
        defer { holder.terminate() }
        let free = try Self.makeFolder(parent, "hark-uploads-1-free", lockFile: true)
        let legacyDead = try Self.makeFolder(parent, "hark-uploads-\(dead)", lockFile: false)
        let legacyLive = try Self.makeFolder(parent, "hark-uploads-1", lockFile: false)
        let unrelated = try Self.makeFolder(parent, "hark-uploadsX", lockFile: true)
        // Wait until it holds the lock: then a non-blocking try from here fails.
        let deadline = Date().addingTimeInterval(10)
        var taken = false
        while !taken && Date() < deadline {
            let fd = open(held.appendingPathComponent(UploadFolder.lockName).path, O_RDONLY)
            taken = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0
            if fd >= 0 { close(fd) }
            if !taken { Thread.sleep(forTimeInterval: 0.02) }
        }
        try #require(taken, "the holder did not take the lock")

        let (own, swept) = try UploadFolder.create(in: parent)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: parent.path))
        #expect(swept == 2)
        #expect(!left.contains(free.lastPathComponent) && !left.contains(legacyDead.lastPathComponent), "\(left)")
        #expect(left.isSuperset(of: [held, legacyLive, unrelated, own.url].map(\.lastPathComponent)), "\(left)")
        #expect(own.url.lastPathComponent.hasPrefix("hark-uploads-\(getpid())-"))
        let mode = try FileManager.default.attributesOfItem(atPath: own.url.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o700)

        // This process's folder is held: another sweep leaves it; once removed it is gone.
        #expect(UploadFolder.sweepAbandoned(in: parent) == 0)
        #expect(FileManager.default.fileExists(atPath: own.url.path))
        own.remove()
        #expect(!FileManager.default.fileExists(atPath: own.url.path))
        // And with the holder gone, the folder it held is abandoned.
        holder.terminate()
        holder.waitUntilExit()
        #expect(UploadFolder.sweepAbandoned(in: parent) == 1)
        #expect(!FileManager.default.fileExists(atPath: held.path))
    }

    /// A folder that cannot be made is a clear error naming it.
    @Test func anUnwritableParentIsAClearError() throws {
        let parent = URL(fileURLWithPath: "/proc/hark-no-such-folder")
        #expect {
            _ = try UploadFolder.create(in: parent)
        } throws: { error in
            (error as? UploadFolder.Failure)?.description.contains("cannot create an upload folder in /proc/hark-no-such-folder") == true
        }
    }
}
