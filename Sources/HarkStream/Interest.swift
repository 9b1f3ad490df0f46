/// What a subscriber wants beyond events and status. The model stage computes only the union of
/// what the current subscribers want, so a window nobody watches costs nothing extra.
public struct Interest: Sendable, Equatable {
    /// Events and status messages (a telemetry-only subscriber sets this false).
    public var eventsAndStatus: Bool
    /// Window results at all.
    public var windows: Bool
    /// Feature maps of these layers (of the maps member); implies `windows`.
    public var layers: Set<String>
    /// The maps member's log-mel of each window; implies `windows`.
    public var logMel: Bool
    /// Each window's audio; implies `windows`.
    public var audio: Bool

    public init(eventsAndStatus: Bool = true, windows: Bool = false, layers: Set<String> = [], logMel: Bool = false,
                audio: Bool = false) {
        self.eventsAndStatus = eventsAndStatus
        self.windows = windows || !layers.isEmpty || logMel || audio
        self.layers = layers
        self.logMel = logMel
        self.audio = audio
    }

    /// Events and status only.
    public static let events = Interest()

    public func union(_ other: Interest) -> Interest {
        Interest(eventsAndStatus: eventsAndStatus || other.eventsAndStatus, windows: windows || other.windows, layers: layers.union(other.layers), logMel: logMel || other.logMel,
                 audio: audio || other.audio)
    }
}
