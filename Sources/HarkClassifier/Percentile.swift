/// Percentiles by the nearest-rank method: the smallest sample with at least p of the samples at
/// or below it. `hark listen`'s summary and `hark bench` both report p50/p99 this way.
public enum Percentile {
    /// `sorted` ascending and non-empty; `p` in (0, 1].
    public static func nearestRank(_ sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty, "no samples")
        let rank = Int((Double(sorted.count) * p).rounded(.up))
        return sorted[min(sorted.count, max(rank, 1)) - 1]
    }
}
