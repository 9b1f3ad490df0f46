/// A capture device as `hark devices` lists it. `name` is a stable `--source` value
/// (an ALSA PCM name or a PulseAudio source name, never an index).
public struct CaptureDevice: Sendable, Codable, Equatable {
    public var name: String
    public var backend: String
    public var description: String
    /// A PulseAudio monitor: what a sink plays, not a microphone.
    public var isMonitor: Bool
    /// The device's own format, when known without opening it (PulseAudio only).
    public var sampleRate: Int?
    public var channels: Int?

    public init(name: String, backend: String, description: String, isMonitor: Bool = false,
                sampleRate: Int? = nil, channels: Int? = nil) {
        self.name = name
        self.backend = backend
        self.description = description
        self.isMonitor = isMonitor
        self.sampleRate = sampleRate
        self.channels = channels
    }

    enum CodingKeys: String, CodingKey {
        case name, backend, description, isMonitor = "is_monitor", sampleRate = "sample_rate", channels
    }
}

/// Devices found, plus notes on backends that could not be asked (e.g. no PulseAudio server).
public struct DeviceListing: Sendable, Codable, Equatable {
    public var devices: [CaptureDevice]
    public var notes: [String]

    public init(devices: [CaptureDevice], notes: [String]) {
        self.devices = devices
        self.notes = notes
    }
}

/// Lists capture devices of both backends. Never opens a device; the PulseAudio query gives up
/// after `PulseIntrospection.defaultTimeout`, so listing returns promptly with no server.
public enum DeviceCatalog {
    /// - Parameter pulseServer: a server address (`unix:/path`); nil for the usual lookup (PULSE_SERVER, …).
    public static func list(pulseServer: String? = nil) -> DeviceListing {
        var devices: [CaptureDevice] = []
        var notes: [String] = []
        switch ALSADeviceHints.capturePCMs() {
        case .success(let hints):
            devices += hints.map { CaptureDevice(name: "alsa:\($0.name)", backend: "alsa", description: $0.description) }
        case .failure(let error):
            notes.append("ALSA: cannot list PCMs (\(error.reason))")
        }
        switch PulseIntrospection.sources(server: pulseServer) {
        case .success(let sources):
            devices += sources.map {
                CaptureDevice(name: "pulse:\($0.name)", backend: "pulse", description: $0.description,
                              isMonitor: $0.isMonitor, sampleRate: $0.sampleRate, channels: $0.channels)
            }
        case .failure(let error):
            notes.append("PulseAudio: no server (\(error.reason))")
        }
        return DeviceListing(devices: devices, notes: notes)
    }
}

/// Why a backend could not be asked for its devices (a short phrase: "connection refused").
struct BackendQueryError: Error, Sendable, Equatable {
    var reason: String
}
