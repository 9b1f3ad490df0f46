// The suites that run `hark serve` processes, nested here so that they run one at a time.
import Testing

/// Each nested suite starts servers, clients and load of its own (1,000 uploads at once, thousands
/// of connections, a browser); side by side on two cores their real-time checks (no window dropped,
/// a stream's delay) measured each other's load instead of Hark. Suites elsewhere still run in parallel.
@Suite(.serialized) enum ServeSuites {}
