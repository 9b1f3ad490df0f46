import CALSA
import Glibc

/// The capture-capable PCMs ALSA advertises: its configuration's hinted PCMs and each card's devices.
enum ALSADeviceHints {
    struct Hint: Sendable, Equatable {
        var name: String
        var description: String
    }

    /// PCMs whose IOID is absent (both directions) or "Input". Fails with ALSA's message.
    static func capturePCMs() -> Result<[Hint], BackendQueryError> {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        let code = snd_device_name_hint(-1, "pcm", &hints)
        guard code >= 0, let hints else { return .failure(BackendQueryError(reason: alsaMessage(code))) }
        defer { snd_device_name_free_hint(hints) }

        var found: [Hint] = []
        var cursor = hints
        while let hint = cursor.pointee {
            cursor += 1
            guard let name = value(hint, "NAME") else { continue }
            let direction = value(hint, "IOID")
            guard direction == nil || direction == "Input" else { continue }
            // Descriptions come as "Card, Device\nDetail": one line reads better in a listing.
            let description = (value(hint, "DESC") ?? "").split(separator: "\n").joined(separator: " — ")
            found.append(Hint(name: name, description: description))
        }
        return .success(found)
    }

    /// One field of a hint; ALSA hands over a malloc'd copy.
    private static func value(_ hint: UnsafeMutableRawPointer, _ field: String) -> String? {
        guard let text = snd_device_name_get_hint(hint, field) else { return nil }
        defer { free(text) }
        return String(cString: text)
    }
}
