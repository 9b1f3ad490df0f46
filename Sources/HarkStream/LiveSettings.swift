import HarkClassifier

/// How a live run behaves. Every default is documented in `hark listen --help` and Config/hark.toml.
public struct LiveSettings: Sendable {
    /// Seconds between the ends of consecutive windows (0.25 … window length).
    public var hopSeconds = 1.0
    public var topK = 3
    public var detector = DetectorConfig()
    /// Where a network that scores crops places them: re-placed in every window (the card's
    /// protocol, as `hark classify`) or on a grid of stream time shared by overlapping windows.
    public var cropPlacement = CropPlacement.window
    /// Windows queued or running in the model stage; a window due while it is full is dropped
    /// and counted, so a slow model never makes memory grow.
    public var maxPendingWindows = 2
    /// Results waiting for the output stage, and the buffer of a lossless subscriber (a slow
    /// stdout reader); beyond this the model stage waits, and windows are dropped upstream
    /// instead of events being lost.
    public var maxOutputBacklog = 32
    /// Audio kept in the ring buffer, seconds (at least window + 2 hops).
    public var ringSeconds = 15.0
    /// Read a file as fast as the pipeline takes it: capture waits for the model instead of
    /// dropping windows. Only for sources that can wait (files), never for devices.
    public var backPressure = false
    /// Deliver audio no faster than real time (files and test PCMs that would otherwise race; a
    /// real device paces itself and is unaffected).
    public var paceToRealTime = false
    /// Reconnection back-off after a lost source: first delay, doubling up to the maximum.
    public var retryInitialSeconds = 0.5
    public var retryMaximumSeconds = 8.0
    /// Added to the `capture_started` status message: what the operator should know about this run
    /// (a slow BLAS kernel), said on the status channel so that stderr stays JSON lines.
    public var startupNote: String?

    public init() {}
}
