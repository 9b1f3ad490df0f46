// Another process's memory and open files, from /proc (Linux).
import Foundation

public enum ProcessMemory {
    struct Missing: Error, CustomStringConvertible { var description: String }

    /// A `/proc/PID/status` field in kB (VmRSS, VmHWM …), as MB.
    public static func megabytes(_ field: String, pid: Int32) throws -> Double {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kB = line.split(separator: " ").compactMap({ Double($0) }).first else {
            throw Missing(description: "no \(field) in /proc/\(pid)/status")
        }
        return kB / 1024
    }

    public static func peakResidentMegabytes(pid: Int32) throws -> Double { try megabytes("VmHWM", pid: pid) }
    public static func residentMegabytes(pid: Int32) throws -> Double { try megabytes("VmRSS", pid: pid) }

    /// Open file descriptors.
    public static func openFiles(pid: Int32) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }
}
