import Foundation
import HarkCapture
import TestSupport

/// What one capture run saw.
struct CaptureRun: Sendable {
    var format: CaptureFormat?
    var samples: [Float] = []
    var blocks = 0
    /// Seconds from a successful `open()` to the first block.
    var firstBlockSeconds: Double? { arrivals.first }
    /// Seconds from open to each block's arrival.
    var arrivals: [Double] = []
    var overruns = 0
    var error: CaptureError?
    /// When reading stopped, taken on the capture thread (immune to the test runner's scheduling).
    var endedAt = Date()
}

/// Opens the source made by `make` on a thread of its own (sources belong to one capture thread),
/// reads until `frames` frames arrived or a read fails, and closes it. `onOpen` runs right after open;
/// `alsa` is the configuration active while the source opens (ALSA reads it then).
/// Returns nil when the run takes longer than `timeout`: the test fails instead of hanging.
func capture(frames: Int, timeout: Double, alsa: ALSAConfig? = nil, onOpen: @escaping @Sendable () -> Void = {},
             _ make: @escaping @Sendable () -> AudioSource) async -> CaptureRun? {
    await onOwnThread(timeout: timeout) {
        let source = make()
        var run = CaptureRun()
        let open = { () -> CaptureError? in
            do throws(CaptureError) { try source.open() } catch { return error }
            return nil
        }
        if let error = alsa.map({ $0.withActivated(open) }) ?? open() {
            run.error = error
            return run
        }
        defer { source.close() }
        run.format = source.format
        onOpen()
        let opened = Date()
        while run.samples.count < frames * source.format.channels {
            do throws(CaptureError) {
                run.samples += try source.read()
            } catch {
                run.error = error
                break
            }
            run.arrivals.append(Date().timeIntervalSince(opened))
            run.blocks += 1
        }
        run.overruns = source.overruns
        run.endedAt = Date()
        return run
    }
}

/// Runs blocking work on its own thread so the test's task does not hold a shared executor thread;
/// nil after `timeout` seconds (the thread is abandoned).
func onOwnThread<T: Sendable>(timeout: Double, _ body: @escaping @Sendable () -> T) async -> T? {
    let once = ResumeOnce<T?>()
    return await withCheckedContinuation { continuation in
        once.install(continuation)
        Thread { once.resume(body()) }.start()
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { once.resume(nil) }
    }
}

/// A thread that starts at once, whose result is awaited later. Unlike an `async let` child
/// task it does not wait for a free pool thread, which at test start-up can take many seconds.
final class StartedThread<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var value: T?

    init(_ body: @escaping @Sendable () -> T) {
        Thread { [self] in
            let result = body()
            lock.withLock { value = result }
            done.signal()
        }.start()
    }

    /// The thread's result, or nil if it has not finished within `seconds` from now.
    func result(within seconds: Double) async -> T? {
        let done = self.done
        let finished = await onOwnThread(timeout: seconds + 1) { done.wait(timeout: .now() + seconds) == .success }
        guard finished == true else { return nil }
        return lock.withLock { value }
    }
}

/// Resumes a continuation exactly once, from whichever side gets there first.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var pending: T?
    private var finished = false

    func install(_ c: CheckedContinuation<T, Never>) {
        lock.lock()
        defer { lock.unlock() }
        continuation = c
    }

    func resume(_ value: T) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished, let continuation else { return }
        finished = true
        continuation.resume(returning: value)
    }
}

/// A signal one thread raises and another waits for, with a deadline.
final class Flag: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func raise() { semaphore.signal() }
    /// Waits on a thread of its own, leaving the test's executor free.
    func wait(seconds: Double) async -> Bool {
        let semaphore = self.semaphore
        return await onOwnThread(timeout: seconds + 1) { semaphore.wait(timeout: .now() + seconds) == .success } ?? false
    }
}

enum Signal {
    /// Root mean square.
    static func rms(_ x: ArraySlice<Float>) -> Float {
        guard !x.isEmpty else { return 0 }
        return (x.reduce(Float(0)) { $0 + $1 * $1 } / Float(x.count)).squareRoot()
    }

    static func rms(_ x: [Float]) -> Float { rms(x[...]) }

    /// The first index of `captured` where `key` appears sample for sample.
    static func firstExactMatch(of key: ArraySlice<Float>, in captured: [Float]) -> Int? {
        guard let head = key.first, captured.count >= key.count else { return nil }
        for i in 0...(captured.count - key.count) where captured[i] == head {
            if captured[i..<(i + key.count)].elementsEqual(key) { return i }
        }
        return nil
    }

    /// Frequency of a tone from its zero crossings.
    static func zeroCrossingFrequency(_ x: ArraySlice<Float>, rate: Int) -> Double {
        var crossings = 0
        var previous = x.first ?? 0
        for v in x.dropFirst() {
            if (previous < 0) != (v < 0) { crossings += 1 }
            previous = v
        }
        return Double(crossings) / 2 / (Double(x.count) / Double(rate))
    }
}

/// Raw little-endian PCM files for ALSA's `type file` plugin.
enum RawPCM {
    static func int16(_ values: [Int16]) -> Data {
        var d = Data(capacity: values.count * 2)
        for v in values { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    static func int32(_ values: [Int32]) -> Data {
        var d = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    static func float32(_ values: [Float]) -> Data {
        var d = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    /// Reads 16-bit little-endian samples.
    static func readInt16(_ url: URL) throws -> [Int16] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 2)).map { Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
        }
    }
}

/// Runs a tool to completion; throws with its stderr when it fails.
@discardableResult
func runTool(_ path: String, _ arguments: [String]) throws -> String {
    let tool = Process()
    tool.executableURL = URL(fileURLWithPath: path)
    tool.arguments = arguments
    let out = Pipe(), err = Pipe()
    tool.standardOutput = out
    tool.standardError = err
    try tool.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    tool.waitUntilExit()
    guard tool.terminationStatus == 0 else {
        throw ToolError(description: "\(path) \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: output, as: UTF8.self)
}

struct ToolError: Error, CustomStringConvertible { var description: String }
