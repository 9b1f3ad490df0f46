import Foundation

/// A private ALSA configuration with test PCMs, layered over the system one:
///
/// - `filecap` (`type file`): capture returns the bytes of a raw PCM file, exactly and without
///   real-time pacing; after the end it keeps returning stale data, so read no more than the file holds.
/// - `pulsecap` (`type pulse`, libasound2-plugins): real-time capture from a PulseAudio source,
///   e.g. a `PulseAudioDaemon`'s monitor.
///
/// - `xruncap` (`type xrun`, built from Tests/Fixtures/alsa-xrun by `buildXrunPlugin`): a 440-Hz
///   tone at 48 kHz mono S16 produced by the wall clock into a ring of the negotiated buffer; a
///   reader a buffer behind gets a real overrun (-EPIPE from alsa-lib).
///
/// They carry a `hint` so `snd_device_name_hint` (and `hark devices`) lists them.
///
/// Using it:
/// - child processes: add `environment` (ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:FILE) to theirs;
/// - in this process: wrap the ALSA calls that read the configuration (`snd_pcm_open`, device
///   listing) in `withActivated { … }`. alsa-lib rereads its configuration whenever the file list in
///   ALSA_CONFIG_PATH changes (or a listed file's mtime does), so this works even after ALSA loaded
///   a configuration once; use a fresh directory per configuration rather than rewriting a file
///   within the same second. The lock keeps tests running in parallel from swapping configurations
///   under each other; children spawned meanwhile inherit the variable, so pass theirs explicitly.
///   An opened PCM no longer needs the configuration, so reading can happen outside the block.
public struct ALSAConfig: Sendable {
    /// The system configuration, which defines `null`, plugin types and the hooks ALSA expects.
    public static let systemFile = "/usr/share/alsa/alsa.conf"

    public let file: URL
    /// The value for ALSA_CONFIG_PATH.
    public var configPath: String { "\(Self.systemFile):\(file.path)" }
    public var environment: [String: String] { ["ALSA_CONFIG_PATH": configPath] }

    /// Writes `asound.conf` in `directory`.
    /// - Parameters:
    ///   - captureFile: a raw PCM file for `filecap` (no header; open it with its exact format).
    ///   - pulseServer, pulseSource: where `pulsecap` captures from (e.g. `daemon.server`, `daemon.monitorName`).
    ///   - xrunPlugin: the plugin `buildXrunPlugin` compiled, for `xruncap`.
    ///   - extra: further configuration text appended as is.
    public init(directory: URL, captureFile: URL? = nil, pulseServer: String? = nil,
                pulseSource: String = "hark_test.monitor", xrunPlugin: URL? = nil, extra: String = "") throws {
        var text = "# Written by Hark's tests (TestSupport/ALSAConfig.swift).\n"
        if let xrunPlugin {
            text += """
                pcm_type.xrun { lib \(Self.quote(xrunPlugin.path)) }
                pcm.xruncap {
                    type xrun
                    hint { show on description "Hark test capture that overruns" }
                }

                """
        }
        if let captureFile {
            text += """
                pcm.filecap {
                    type file
                    slave.pcm "null"
                    file "/dev/null"
                    infile \(Self.quote(captureFile.path))
                    format "raw"
                    hint { show on description "Hark test capture from a raw file" }
                }

                """
        }
        if let pulseServer {
            text += """
                pcm.pulsecap {
                    type pulse
                    device \(Self.quote(pulseSource))
                    server \(Self.quote(pulseServer))
                    hint { show on description "Hark test capture from PulseAudio" }
                }

                """
        }
        text += extra
        file = directory.appendingPathComponent("asound.conf")
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    /// Runs `body` with ALSA_CONFIG_PATH pointing at this configuration, then restores the old value.
    /// Calls are serialised process-wide.
    public func withActivated<T>(_ body: () throws -> T) rethrows -> T {
        Self.lock.lock()
        defer { Self.lock.unlock() }
        let previous = getenv("ALSA_CONFIG_PATH").map { String(cString: $0) }
        setenv("ALSA_CONFIG_PATH", configPath, 1)
        // Restored by value rather than unset: setenv on an existing variable never moves `environ`,
        // which other threads may be reading (e.g. to spawn a process).
        defer { setenv("ALSA_CONFIG_PATH", previous ?? Self.systemFile, 1) }
        return try body()
    }

    private static let lock = NSLock()

    /// An ALSA configuration string literal.
    /// Compiles the `xrun` PCM plugin (Tests/Fixtures/alsa-xrun/pcm_xrun.c) into `directory` with
    /// the system C compiler; returns the library.
    public static func buildXrunPlugin(in directory: URL) throws -> URL {
        let library = directory.appendingPathComponent("libasound_module_pcm_xrun.so")
        let source = TestPaths.fixtures.appendingPathComponent("alsa-xrun/pcm_xrun.c")
        // -DPIC: alsa-lib's plugin symbol macros need it in a shared object.
        let cc = try Process.run(URL(fileURLWithPath: "/usr/bin/env"),
                                 arguments: ["cc", "-shared", "-fPIC", "-DPIC", "-O2", "-o", library.path, source.path, "-lasound", "-lm"])
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else { throw BuildFailure(description: "cc could not build \(source.path)") }
        return library
    }

    public struct BuildFailure: Error, CustomStringConvertible { public var description: String }

    private static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
