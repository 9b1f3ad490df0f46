import Foundation

/// One shard of an archive, `K/N`: the files whose path hashes to K modulo N. The hash is FNV-1a
/// (64-bit) of the path as listed, so every machine of a Slurm array, a Kubernetes indexed Job or
/// GNU parallel splits the same list the same way, with no coordinator.
public struct ArchiveShard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `K/N` with 0 ≤ K < N.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else { return nil }
        self.init(index: parts[0], count: parts[1])
    }

    public static let whole = ArchiveShard(index: 0, count: 1)

    public func contains(_ path: String) -> Bool { Self.hash(path) % UInt64(count) == UInt64(index) }

    public var description: String { "\(index)/\(count)" }

    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// The paths of a list file (`-`: stdin): one a line; blank lines and `#` comments skipped.
    public static func readList(_ path: String) throws -> [String] {
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

/// A JSON-lines output file a killed run can resume: on opening, a torn last line (no newline) is
/// cut off and the `file` of every complete line is remembered, so those files are skipped; each
/// file's lines are then appended in one write, so a file is in the output whole or not at all.
public final class ResumableJSONLines {
    public let path: String
    /// Files whose results are already in the output.
    public private(set) var done: Set<String> = []
    private let handle: FileHandle

    public init(path: String) throws {
        self.path = path
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) { fm.createFile(atPath: path, contents: nil) }
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        if let lastNewline = data.lastIndex(of: 0x0A) {
            if lastNewline != data.index(before: data.endIndex) { data = data.prefix(through: lastNewline) }
        } else {
            data = Data()
        }
        for line in data.split(separator: 0x0A) {
            if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let file = object["file"] as? String {
                done.insert(file)
            }
        }
        handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(data.count))
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Appends one file's lines (each without its newline) in a single write.
    public func append(file: String, lines: [Data]) throws {
        var chunk = Data()
        for line in lines {
            chunk.append(line)
            chunk.append(0x0A)
        }
        try handle.write(contentsOf: chunk)
        done.insert(file)
    }
}
