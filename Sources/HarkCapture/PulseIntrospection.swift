import CPulse

/// One PulseAudio source as the server describes it.
struct PulseSourceInfo: Sendable, Equatable {
    var name: String
    var description: String
    var sampleRate: Int
    var channels: Int
    var isMonitor: Bool
}

/// Short-lived queries against a PulseAudio server with a hard deadline, so listing devices or
/// reading a source's native format never hangs when no server runs (or one stops answering).
/// Never autospawns a daemon.
enum PulseIntrospection {
    static let defaultTimeout: Duration = .milliseconds(1500)

    /// Every source (inputs and monitors). Failure carries a short reason ("connection refused").
    static func sources(server: String?, timeout: Duration = defaultTimeout) -> Result<[PulseSourceInfo], BackendQueryError> {
        run(server: server, timeout: timeout) { context, collector in
            pa_context_get_source_info_list(context, collectSource, collector)
        }
    }

    /// One source by name; nil asks for the server's default source.
    static func source(named name: String?, server: String?, timeout: Duration = defaultTimeout) -> Result<PulseSourceInfo, BackendQueryError> {
        let result = run(server: server, timeout: timeout) { context, collector in
            pa_context_get_source_info_by_name(context, name ?? "@DEFAULT_SOURCE@", collectSource, collector)
        }
        return result.flatMap { list in
            list.first.map { .success($0) } ?? .failure(BackendQueryError(reason: "no source named \(name ?? "@DEFAULT_SOURCE@")"))
        }
    }

    /// Connects, issues one operation, and pumps the main loop until it completes or the deadline passes.
    private static func run(server: String?, timeout: Duration,
                            _ start: (OpaquePointer, UnsafeMutableRawPointer) -> OpaquePointer?)
        -> Result<[PulseSourceInfo], BackendQueryError> {
        guard let loop = pa_mainloop_new() else { return .failure(BackendQueryError(reason: "cannot create a main loop")) }
        defer { pa_mainloop_free(loop) }
        guard let context = pa_context_new(pa_mainloop_get_api(loop), "hark-devices") else {
            return .failure(BackendQueryError(reason: "cannot create a context"))
        }
        defer {
            pa_context_disconnect(context)
            pa_context_unref(context)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        func pump() -> Bool {
            let left = clock.now.duration(to: deadline)
            guard left > .zero else { return false }
            let micros = left.components.seconds * 1_000_000 + left.components.attoseconds / 1_000_000_000_000
            return pa_mainloop_prepare(loop, Int32(clamping: micros)) >= 0
                && pa_mainloop_poll(loop) >= 0 && pa_mainloop_dispatch(loop) >= 0
        }
        func failure() -> BackendQueryError {
            BackendQueryError(reason: String(cString: pa_strerror(pa_context_errno(context))).lowercased())
        }
        let timedOut = BackendQueryError(reason: "no answer within \(timeout)")

        if pa_context_connect(context, server, PA_CONTEXT_NOAUTOSPAWN, nil) < 0 { return .failure(failure()) }
        while true {
            let state = pa_context_get_state(context)
            if state == PA_CONTEXT_READY { break }
            if state == PA_CONTEXT_FAILED || state == PA_CONTEXT_TERMINATED { return .failure(failure()) }
            if !pump() { return .failure(timedOut) }
        }

        let collector = SourceCollector()
        let opaque = Unmanaged.passRetained(collector)
        defer { opaque.release() }
        guard let operation = start(context, opaque.toOpaque()) else { return .failure(failure()) }
        defer { pa_operation_unref(operation) }
        while pa_operation_get_state(operation) == PA_OPERATION_RUNNING {
            if pa_context_get_state(context) != PA_CONTEXT_READY { return .failure(failure()) }
            if !pump() {
                pa_operation_cancel(operation)
                return .failure(timedOut)
            }
        }
        if collector.failed { return .failure(failure()) }
        return .success(collector.sources)
    }
}

/// Accumulates source-info callbacks; lives only for one query on the querying thread.
private final class SourceCollector {
    var sources: [PulseSourceInfo] = []
    var failed = false
}

/// The C callback for source-info queries (`eol` < 0 reports a failure such as "no such entity").
private let collectSource: pa_source_info_cb_t = { _, info, eol, userdata in
    guard let userdata else { return }
    let collector = Unmanaged<SourceCollector>.fromOpaque(userdata).takeUnretainedValue()
    if eol < 0 { collector.failed = true }
    guard eol == 0, let info = info?.pointee else { return }
    collector.sources.append(PulseSourceInfo(
        name: info.name.map { String(cString: $0) } ?? "",
        description: info.description.map { String(cString: $0) } ?? "",
        sampleRate: Int(info.sample_spec.rate),
        channels: Int(info.sample_spec.channels),
        isMonitor: info.monitor_of_sink != UInt32.max))
}
