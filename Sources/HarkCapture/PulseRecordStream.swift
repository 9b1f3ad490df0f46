import CPulse

/// A PulseAudio record stream on a threaded main loop, with blocking reads of Float32 samples.
///
/// Why not `pa_simple`: between reads `pa_simple` keeps a partly consumed fragment "acquired". When
/// the server dies, the main-loop thread (holding the lock) waits for that fragment's release while
/// the reader waits for the lock: `pa_simple_read` hangs forever (seen with a killed daemon, SHM on).
/// Here every fragment is copied out and dropped before the lock is released.
///
/// Used from one thread; the main loop runs its own.
final class PulseRecordStream {
    struct Failure: Error {
        /// A `pa_error_code_t` value.
        var code: Int32
        var message: String
    }

    private let loop: OpaquePointer
    private let context: OpaquePointer
    private var stream: OpaquePointer?
    private var pending: [Float] = []
    /// Gaps the server reported in the stream (audio it dropped).
    private(set) var holes = 0

    /// Connects and starts recording; returns once the stream is ready.
    init(server: String?, applicationName: String, source: String?, spec: pa_sample_spec,
         fragmentBytes: Int) throws(Failure) {
        guard let loop = pa_threaded_mainloop_new() else { throw Failure(code: -1, message: "cannot create a main loop") }
        guard let context = pa_context_new(pa_threaded_mainloop_get_api(loop), applicationName) else {
            pa_threaded_mainloop_free(loop)
            throw Failure(code: -1, message: "cannot create a context")
        }
        self.loop = loop
        self.context = context
        let signal = UnsafeMutableRawPointer(loop)
        pa_context_set_state_callback(context, { _, loop in wake(loop) }, signal)

        pa_threaded_mainloop_lock(loop)
        defer { pa_threaded_mainloop_unlock(loop) }
        guard pa_threaded_mainloop_start(loop) >= 0 else { throw Failure(code: -1, message: "cannot start the main loop") }
        guard pa_context_connect(context, server, PA_CONTEXT_NOFLAGS, nil) >= 0 else { throw lastFailure() }
        while pa_context_get_state(context) != PA_CONTEXT_READY {
            if Self.isFinal(pa_context_get_state(context)) { throw lastFailure() }
            pa_threaded_mainloop_wait(loop)
        }

        var spec = spec
        guard let stream = pa_stream_new(context, "capture", &spec, nil) else { throw lastFailure() }
        self.stream = stream
        pa_stream_set_state_callback(stream, { _, loop in wake(loop) }, signal)
        pa_stream_set_read_callback(stream, { _, _, loop in wake(loop) }, signal)
        // fragsize: how much the server batches per delivery; ADJUST_LATENCY makes it the source latency.
        var attr = pa_buffer_attr(maxlength: UInt32.max, tlength: UInt32.max, prebuf: UInt32.max,
                                  minreq: UInt32.max, fragsize: UInt32(fragmentBytes))
        guard pa_stream_connect_record(stream, source, &attr, PA_STREAM_ADJUST_LATENCY) >= 0 else { throw lastFailure() }
        while pa_stream_get_state(stream) != PA_STREAM_READY {
            if pa_stream_get_state(stream) == PA_STREAM_FAILED || pa_stream_get_state(stream) == PA_STREAM_TERMINATED {
                throw lastFailure()
            }
            pa_threaded_mainloop_wait(loop)
        }
    }

    deinit {
        pa_threaded_mainloop_lock(loop)
        if let stream {
            pa_stream_set_state_callback(stream, nil, nil)
            pa_stream_set_read_callback(stream, nil, nil)
            pa_stream_disconnect(stream)
            pa_stream_unref(stream)
        }
        pa_context_set_state_callback(context, nil, nil)
        pa_context_disconnect(context)
        pa_context_unref(context)
        pa_threaded_mainloop_unlock(loop)
        pa_threaded_mainloop_stop(loop)
        pa_threaded_mainloop_free(loop)
    }

    /// Blocks until `count` samples arrived and returns them; throws when the stream or server fails.
    func read(_ count: Int) throws(Failure) -> [Float] {
        guard let stream else { throw Failure(code: -1, message: "no stream") }
        pa_threaded_mainloop_lock(loop)
        defer { pa_threaded_mainloop_unlock(loop) }
        while pending.count < count {
            guard pa_stream_get_state(stream) == PA_STREAM_READY else { throw lastFailure() }
            var data: UnsafeRawPointer?
            var bytes = 0
            guard pa_stream_peek(stream, &data, &bytes) >= 0 else { throw lastFailure() }
            if bytes == 0 {
                pa_threaded_mainloop_wait(loop)
                continue
            }
            if let data {
                let start = pending.count, samples = bytes / MemoryLayout<Float>.size
                pending.append(contentsOf: repeatElement(0, count: samples))
                pending.withUnsafeMutableBytes { out in
                    out.baseAddress.map { ($0 + start * MemoryLayout<Float>.size).copyMemory(from: data, byteCount: samples * 4) }
                }
            } else {
                holes += 1
            }
            // Released at once, never held across reads (see the type's comment).
            pa_stream_drop(stream)
        }
        let block = Array(pending.prefix(count))
        pending.removeFirst(count)
        return block
    }

    /// The context's error, or the stream's state when the context looks fine.
    private func lastFailure() -> Failure {
        var code = pa_context_errno(context)
        if code == 0 { code = Int32(PA_ERR_UNKNOWN.rawValue) }
        if pa_context_get_state(context) != PA_CONTEXT_READY && code == Int32(PA_ERR_UNKNOWN.rawValue) {
            code = Int32(PA_ERR_CONNECTIONTERMINATED.rawValue)
        }
        return Failure(code: code, message: pa_strerror(code).map { String(cString: $0) } ?? "error \(code)")
    }

    private static func isFinal(_ state: pa_context_state_t) -> Bool {
        state == PA_CONTEXT_FAILED || state == PA_CONTEXT_TERMINATED
    }
}

/// Wakes the reader waiting in `pa_threaded_mainloop_wait` (called on the main-loop thread).
private func wake(_ loop: UnsafeMutableRawPointer?) {
    guard let loop else { return }
    pa_threaded_mainloop_signal(OpaquePointer(loop), 0)
}
