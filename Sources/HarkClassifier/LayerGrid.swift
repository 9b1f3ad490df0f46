import HarkEngine

/// A 2-D grid of values and its shape `[rows, columns]`, encoded as `{"shape", "values"}` with
/// `values` as rows: the form the seed visualizers' front-ends draw (a layer's channel mean, a
/// log-mel). `hark classify --maps` and `POST /v1/classify` both write it.
public struct LayerGrid: Sendable, Equatable, Codable {
    public var shape: [Int]
    public var values: [[Float]]

    /// `flat` holds `rows × columns` values, row-major.
    public init(rows: Int, columns: Int, flat: [Float]) {
        precondition(flat.count == rows * columns, "\(flat.count) values for a \(rows) × \(columns) grid")
        shape = [rows, columns]
        values = (0..<rows).map { r in Array(flat[(r * columns)..<((r + 1) * columns)]) }
    }

    /// A feature map's mean over channels: height × width.
    public init(channelMeanOf map: FeatureMap) {
        self.init(rows: map.shape.height, columns: map.shape.width, flat: map.channelMean())
    }

    /// The channel means of every map, by layer name.
    public static func channelMeans(_ maps: [String: FeatureMap]) -> [String: LayerGrid] {
        maps.mapValues(LayerGrid.init(channelMeanOf:))
    }
}
