import Foundation

/// Runs the built `hark` binary as a real process.
public struct HarkProcess {
    /// `hark` beside the test bundle (same build folder), else the debug build.
    public static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hark")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return TestPaths.root.appendingPathComponent(".build/debug/hark")
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs to completion with optional stdin bytes (waiting off the test's thread). `environment`
    /// adds to or overrides this process's environment; the variables in `unsetting` are removed.
    public static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
                           unsetting: [String] = []) async throws -> Result {
        let p = start(arguments, environment: environment, unsetting: unsetting)
        let input = Pipe()
        p.process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try p.process.run()
        return try await offThread {
            if let stdin {
                try input.fileHandleForWriting.write(contentsOf: stdin)
                try input.fileHandleForWriting.close()
            }
            return p.collect()
        }
    }

    /// A started process whose output is collected until it exits.
    public final class Running: @unchecked Sendable {
        public let process = Process()
        let out = Pipe(), err = Pipe()
        private let lock = NSLock()
        private var stdoutData = Data(), stderrData = Data()
        /// Left by each reader at end of file.
        private let readersDone = DispatchGroup()

        init() {
            process.standardOutput = out
            process.standardError = err
            read(out.fileHandleForReading, error: false)
            read(err.fileHandleForReading, error: true)
        }

        /// Reads a pipe to its end on a thread of its own, appending as data arrives. `collect`
        /// waits for both readers: with a readability handler, a chunk already taken from the
        /// pipe could still be on its way to the buffer when the result was built (a run printed
        /// its line and the test saw none).
        private func read(_ handle: FileHandle, error: Bool) {
            readersDone.enter()
            Thread { [weak self, readersDone] in
                while true {
                    let data = handle.availableData  // blocks; empty at end of file
                    if data.isEmpty { break }
                    self?.append(data, error: error)
                }
                readersDone.leave()
            }.start()
        }

        private func append(_ d: Data, error: Bool) {
            lock.lock()
            if error { stderrData.append(d) } else { stdoutData.append(d) }
            lock.unlock()
        }

        /// Output so far.
        public var stdoutText: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: stdoutData, as: UTF8.self)
        }

        /// Standard error so far.
        public var stderrText: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: stderrData, as: UTF8.self)
        }

        /// Waits for the exit (off the test's thread) and returns everything it printed.
        public func finish() async throws -> Result {
            try await offThread { self.collect() }
        }

        func collect() -> Result {
            process.waitUntilExit()
            readersDone.wait()
            lock.lock()
            defer { lock.unlock() }
            return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                          stderr: String(decoding: stderrData, as: UTF8.self))
        }

        /// Waits until a line of stdout (or stderr) satisfies `match` or the timeout passes, and returns that
        /// line. It polls on a thread of its own: on the test pool a busy suite can hold the poll
        /// back past its deadline while the line is already there. The output is checked once
        /// more at the deadline for the same reason.
        public func waitForLine(timeout: TimeInterval, onStderr: Bool = false,
                                where match: @escaping @Sendable (Substring) -> Bool) async throws -> String? {
            try await offThread {
                let deadline = Date().addingTimeInterval(timeout)
                while true {
                    let text = onStderr ? self.stderrText : self.stdoutText
                    if let line = text.split(separator: "\n").first(where: match) { return String(line) }
                    if Date() >= deadline { return nil }
                    usleep(20_000)
                }
            }
        }

        /// Waits until stdout contains `text` (within one line) or the timeout passes.
        public func waitForOutput(containing text: String, timeout: TimeInterval) async throws -> Bool {
            try await waitForLine(timeout: timeout) { $0.contains(text) } != nil
        }
    }

    public static func start(_ arguments: [String], environment: [String: String] = [:], unsetting: [String] = []) -> Running {
        let r = Running()
        r.process.executableURL = executable
        r.process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        for name in unsetting { merged[name] = nil }
        r.process.environment = merged
        return r
    }
}
