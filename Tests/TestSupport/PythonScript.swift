// Runs a Python 3 script (the browser check, the load and flood helpers) and collects its output.
import Foundation

public enum PythonScript {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// The last line of stdout as a JSON object (the helpers print one).
        public var json: [String: Any]? {
            stdout.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    /// `python3 ARGUMENTS` with `environment` added, stdin from `input`; waits off the cooperative pool.
    public static func run(_ arguments: [String], input: Data? = nil, environment: [String: String] = [:]) async throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = stderr
        try p.run()
        let (out, err) = try await offThread { () -> (Data, Data) in
            if let input { try stdin.fileHandleForWriting.write(contentsOf: input) }
            try stdin.fileHandleForWriting.close()
            // Drain stderr on its own thread so that neither pipe can fill and stall the script.
            let errors = DispatchGroup()
            nonisolated(unsafe) var err = Data()
            DispatchQueue.global().async(group: errors) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
            let out = stdout.fileHandleForReading.readDataToEndOfFile()
            errors.wait()
            p.waitUntilExit()
            return (out, err)
        }
        return Result(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: err, as: UTF8.self))
    }
}
