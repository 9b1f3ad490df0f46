import Foundation

/// A private PulseAudio daemon for one test: its own runtime folder, socket and null sink, so
/// daemons of tests running in parallel never meet. Audio played into the sink (`play(path:)`)
/// comes out of `monitorName`, a real capture source.
///
/// ```swift
/// let pulse = try await PulseAudioDaemon.started()
/// defer { pulse.stop() }
/// let player = try pulse.play(path: wav.path)          // paplay into the null sink
/// let source = PulseSource(source: pulse.monitorName, server: pulse.server)
/// // child processes: pulse.clientEnvironment (PULSE_SERVER=…)
/// ```
///
/// Timing to expect: the daemon answers within ~50 ms; a client of the idle monitor gets its first
/// 100 ms block ~2 s after connecting (the null sink sleeps up to its 2 s latency before it notices
/// the new stream), then one block every 100 ms. The first few milliseconds played into an idle sink
/// can be missing from the monitor (5 ms seen), so match captured audio past its start.
///
/// How the daemon is run, and why:
/// - in the foreground as this process's child (not `-D`): PID 1 on these machines does not reap
///   orphans, so a daemonised PulseAudio would linger as a zombie after every kill;
/// - with `posix_spawn`, not Foundation's `Process`: PulseAudio closes every inherited descriptor at
///   start-up, which Foundation takes for the child's exit; it then blocks in `waitpid` on the live
///   daemon and no other `Process` in the test run is ever reaped again (all `waitUntilExit` hang);
/// - in this process's group, with a watchdog shell that kills it if the test process dies without
///   `stop()`, so crashed or killed test runs leave no daemon behind;
/// - modules load sink first, so once the socket accepts connections the sink exists.
///
/// Not thread-safe: drive it from one task (`play` may be called from another thread once started).
public final class PulseAudioDaemon: @unchecked Sendable {
    /// The private folder: socket, log, XDG_RUNTIME_DIR and HOME of the daemon.
    public let directory: URL
    public let sinkName: String
    public let sampleRate: Int
    public let channels: Int
    /// The server address for clients: `unix:DIR/pulse.sock`.
    public var server: String { "unix:\(socketPath)" }
    public var monitorName: String { "\(sinkName).monitor" }
    public var socketPath: String { directory.appendingPathComponent("pulse.sock").path }
    public var logPath: String { directory.appendingPathComponent("pulse.log").path }
    /// Environment for client processes (`hark listen --source pulse:…`, parec, …).
    public var clientEnvironment: [String: String] { ["PULSE_SERVER": server] }
    /// The daemon's pid while it runs.
    public private(set) var pid: pid_t?

    private var watchdog: pid_t?
    private var players: [Process] = []
    private let playersLock = NSLock()

    /// Starts a daemon off the test's pool thread: start-up polls the socket, and tests starting
    /// daemons side by side must not starve the pool the other tests await on.
    public static func started(sinkName: String = "hark_test") async throws -> PulseAudioDaemon {
        try await offThread { try PulseAudioDaemon(sinkName: sinkName) }
    }

    /// Starts the daemon and waits (up to `timeout`) until its socket answers.
    public init(sinkName: String = "hark_test", sampleRate: Int = 44_100, channels: Int = 1,
                timeout: TimeInterval = 10) throws {
        self.directory = try TestPaths.temporaryDirectory("hark-pulse")
        self.sinkName = sinkName
        self.sampleRate = sampleRate
        self.channels = channels
        try start(timeout: timeout)
    }

    deinit { stop() }

    /// Starts the daemon on the same socket (after `kill()`); a no-op when it runs.
    public func start(timeout: TimeInterval = 10) throws {
        if pid != nil { return }
        let fm = FileManager.default
        for sub in ["runtime", "home"] {
            try fm.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
        }
        var env = ProcessInfo.processInfo.environment
        env["XDG_RUNTIME_DIR"] = directory.appendingPathComponent("runtime").path
        env["HOME"] = directory.appendingPathComponent("home").path
        env["PULSE_SERVER"] = nil
        let daemon = try ChildProcess.spawn("/usr/bin/pulseaudio", [
            "-n", "--exit-idle-time=-1", "--daemonize=no", "--log-target=file:\(logPath)",
            "--load=module-null-sink sink_name=\(sinkName) rate=\(sampleRate) channels=\(channels) format=s16le",
            "--load=module-native-protocol-unix auth-anonymous=1 socket=\(socketPath)",
        ], environment: env)
        pid = daemon
        // Kills the daemon once this process is gone (the watchdog is re-parented; a dead test
        // process can linger as a zombie while its runner drains pipes); ends when the daemon does.
        let parentIsAlive = "[ \"$(cut -d' ' -f4 /proc/$$/stat)\" = \(getpid()) ]"
        let guardScript = "while \(parentIsAlive) && kill -0 \(daemon) 2>/dev/null; do sleep 1; done; "
            + "\(parentIsAlive) || kill -9 \(daemon)"
        watchdog = try? ChildProcess.spawn("/bin/sh", ["-c", guardScript], environment: ["PATH": "/usr/bin:/bin"])

        let deadline = Date().addingTimeInterval(timeout)
        while !Self.socketAnswers(socketPath) {
            if ChildProcess.hasExited(daemon) {
                pid = nil
                stopWatchdog()
                throw DaemonError.exited(log: log)
            }
            guard Date() < deadline else {
                kill()
                throw DaemonError.notReady(log: log)
            }
            usleep(10_000)
        }
    }

    /// Plays an audio file into the null sink (`paplay --latency-msec=250`); the returned process
    /// runs until the file ends. Players still running are stopped by `stop()`. The 250 ms of
    /// buffer let a loaded machine starve the player that long before the sink runs dry and plays
    /// silence into the middle of the file (with 20 ms, 32 of 40 clip chunks arrived bit-exact in
    /// a test-suite run beside a CPU burner).
    @discardableResult
    public func play(path: String) throws -> Process {
        let player = Process()
        player.executableURL = URL(fileURLWithPath: "/usr/bin/paplay")
        player.arguments = ["-s", server, "-d", sinkName, "--latency-msec=250", path]
        player.standardInput = FileHandle.nullDevice
        // Not the test's own streams: an orphaned player would hold the test runner's pipes open.
        player.standardOutput = FileHandle.nullDevice
        player.standardError = FileHandle.nullDevice
        try player.run()
        playersLock.withLock { players.append(player) }
        return player
    }

    /// Runs `pactl -s SERVER ARGS…` and returns its standard output.
    public func pactl(_ arguments: [String]) throws -> String {
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: "/usr/bin/pactl")
        tool.arguments = ["-s", server] + arguments
        let out = Pipe()
        tool.standardOutput = out
        tool.standardError = FileHandle.nullDevice
        try tool.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        tool.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Kills the daemon (SIGKILL by default: a crash, as clients see it) and waits until it is gone.
    public func kill(signal: Int32 = SIGKILL) {
        guard let daemon = pid else { return }
        pid = nil
        ChildProcess.terminate(daemon, signal: signal, graceSeconds: 5)
        stopWatchdog()
    }

    /// Kills and starts the daemon again on the same socket, as after a crash and restart.
    public func restart(timeout: TimeInterval = 10) throws {
        kill()
        try start(timeout: timeout)
    }

    /// Stops players and the daemon and removes the folder. Safe to call twice.
    public func stop() {
        let running = playersLock.withLock { () -> [Process] in
            defer { players.removeAll() }
            return players
        }
        for player in running where player.isRunning {
            Glibc.kill(player.processIdentifier, SIGKILL)
            player.waitUntilExit()
        }
        kill(signal: SIGTERM)
        try? FileManager.default.removeItem(at: directory)
    }

    private func stopWatchdog() {
        guard let watchdog else { return }
        self.watchdog = nil
        ChildProcess.terminate(watchdog, signal: SIGKILL, graceSeconds: 5)
    }

    /// The daemon's log so far (for failure messages).
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public enum DaemonError: Error, CustomStringConvertible {
        case exited(log: String)
        case notReady(log: String)

        public var description: String {
            switch self {
            case .exited(let log): return "pulseaudio exited at start-up:\n\(log)"
            case .notReady(let log): return "pulseaudio socket never answered:\n\(log)"
            }
        }
    }

    /// Whether a Unix socket at `path` accepts a connection.
    private static func socketAnswers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }
}

/// Child processes started with `posix_spawn` and reaped with `waitpid`, outside Foundation's
/// `Process` bookkeeping. Standard streams go to /dev/null; signal dispositions are reset.
public enum ChildProcess {
    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func spawn(_ path: String, _ arguments: [String], environment: [String: String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), mask = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, sig) }
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard code == 0 else { throw SpawnError(description: "\(path): \(String(cString: strerror(code)))") }
        return pid
    }

    /// Whether the child ended (and reaps it if so).
    public static func hasExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) != 0
    }

    /// Sends `signal`, waits up to `graceSeconds` for the child to end, then SIGKILLs and reaps it.
    public static func terminate(_ pid: pid_t, signal: Int32, graceSeconds: Double) {
        Glibc.kill(pid, signal)
        let deadline = Date().addingTimeInterval(graceSeconds)
        while Date() < deadline {
            if hasExited(pid) { return }
            usleep(5_000)
        }
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
