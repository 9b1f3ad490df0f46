import Foundation

/// Where the pipeline's messages go. Called on the pipeline's output queue only, in order.
public protocol LiveSink: AnyObject, Sendable {
    /// Throwing stops the pipeline (e.g. stdout closed by `| head`).
    func deliver(_ message: LiveMessage) throws
}

/// Line-delimited JSON: events (and windows) on one handle, status on another unless asked to
/// share it. Each line is one `write`, so `hark listen | jq` sees it at once.
public final class JSONLinesSink: LiveSink, @unchecked Sendable {
    // @unchecked: mutated only from the pipeline's serial output queue.
    private let output: FileHandle
    private let statusOutput: FileHandle
    private let encoder: JSONEncoder

    public init(output: FileHandle = .standardOutput, statusOutput: FileHandle = .standardError) {
        self.output = output
        self.statusOutput = statusOutput
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    public func deliver(_ message: LiveMessage) throws {
        var line = try encoder.encode(message)
        line.append(0x0A)
        if case .status = message {
            try statusOutput.write(contentsOf: line)
        } else {
            try output.write(contentsOf: line)
        }
    }
}
