import Foundation

/// Line-delimited JSON, as `hark listen` prints it: events (and windows, when asked) on one handle,
/// status on another unless asked to share it. Each line is one `write`, so `hark listen | jq`
/// sees it at once. The schema is frozen in docs/listen-output.schema.json.
/// Not thread-safe: one consumer thread writes.
public final class JSONLinesOutput: @unchecked Sendable {
    private let windows: Bool
    private let scores: Bool
    private let output: FileHandle
    private let statusOutput: FileHandle
    private let encoder = JSONEncoder()

    /// - Parameter scores: window lines carry every class's detection score (`--emit scores`).
    public init(windows: Bool, scores: Bool = false, output: FileHandle = .standardOutput, statusOutput: FileHandle = .standardError) {
        self.windows = windows || scores
        self.scores = scores
        self.output = output
        self.statusOutput = statusOutput
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    /// What this output wants from the pipeline.
    public var interest: Interest { Interest(windows: windows) }

    /// Writes one item (windows only when asked for). Throws when the handle is closed.
    public func write(_ item: LiveOutput) throws {
        let message: LiveMessage
        switch item {
        case .event(let e): message = .event(e)
        case .status(let s): message = .status(s)
        case .window(let w):
            guard windows else { return }
            message = .window(WindowMessage(w, withScores: scores))
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

/// `hark listen`'s output: a lossless subscriber that writes `JSONLinesOutput` on a thread of its
/// own, so a slow reader of stdout holds back only this subscription (and, through its contract,
/// the model stage), never capture.
public final class JSONLinesWriter: Sendable {
    private let subscription: LiveSubscription
    private let output: JSONLinesOutput
    private let done = DispatchSemaphore(value: 0)

    public init(pipeline: LivePipeline, output: JSONLinesOutput, capacity: Int = LiveSettings().maxOutputBacklog) {
        subscription = pipeline.hub.subscribe(output.interest, delivery: .lossless, capacity: capacity)
        self.output = output
    }

    /// Starts writing. A write that fails (stdout closed by `| head`) calls `failed` once with the
    /// reason, and the subscription is cancelled so that the pipeline never waits for it.
    public func start(failed: @escaping @Sendable (String) -> Void) {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            while let item = subscription.next() {
                do {
                    try output.write(item)
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
}
