import Foundation

/// `hark listen`'s output: a lossless subscriber that writes line-delimited JSON — events (and
/// windows) on one handle, status on another unless asked to share it. Each line is one `write`,
/// so `hark listen | jq` sees it at once. The schema is frozen in docs/listen-output.schema.json.
///
/// Threads: writes happen on a thread of its own, so a slow reader of stdout holds back only this
/// subscription (and, through its contract, the model stage), never capture.
public final class JSONLinesWriter: Sendable {
    private let subscription: LiveSubscription
    private let output: FileHandle
    private let statusOutput: FileHandle
    private let done = DispatchSemaphore(value: 0)

    /// Subscribes to `pipeline`'s output: windows too when `windows` is set.
    public init(pipeline: LivePipeline, windows: Bool, output: FileHandle = .standardOutput,
                statusOutput: FileHandle = .standardError, capacity: Int = LiveSettings().maxOutputBacklog) {
        subscription = pipeline.hub.subscribe(Interest(windows: windows), delivery: .lossless, capacity: capacity)
        self.output = output
        self.statusOutput = statusOutput
    }

    /// Starts writing. A write that fails (stdout closed by `| head`) calls `failed` once with the
    /// reason, and the subscription is cancelled so that the pipeline never waits for it.
    public func start(failed: @escaping @Sendable (String) -> Void) {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            while let item = subscription.next() {
                do {
                    try write(item, encoder: encoder)
                } catch {
                    subscription.cancel()
                    failed("output closed: \(error)")
                    return
                }
            }
        }
    }

    /// Blocks until everything the pipeline published was written (or writing failed).
    public func wait() {
        done.wait()
        done.signal()
    }

    private func write(_ item: LiveOutput, encoder: JSONEncoder) throws {
        let message: LiveMessage
        switch item {
        case .event(let e): message = .event(e)
        case .status(let s): message = .status(s)
        case .window(let w): message = .window(WindowMessage(w))
        }
        var line = try encoder.encode(message)
        line.append(0x0A)
        if case .status = message {
            try statusOutput.write(contentsOf: line)
        } else {
            try output.write(contentsOf: line)
        }
    }
}
