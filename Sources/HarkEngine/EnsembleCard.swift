/// A card naming several model cards whose window probabilities are averaged: each member keeps
/// its own front-end, crops and weights, and all share one label list and one window length.
/// Written by `Training/export_ensemble.py` beside the members' cards.
public struct EnsembleCard: Codable, Sendable {
    public static let format = "hark-ensemble-card/1"

    public var format: String
    public var name: String
    public var description: String?
    /// Member card files, relative to this card's folder. The first one's feature maps are the
    /// ensemble's (its layers are the ones a client may tap).
    public var members: [String]
    public var evaluation: ModelCard.Evaluation?
    public var training: ModelCard.Training?
    public var license: ModelCard.License?
    /// Event-detector settings fitted for the ensemble's averaged scores; nil = Hark's defaults.
    public var detection: DetectionCalibration?

    public static func load(path: String) throws(EngineError) -> EnsembleCard {
        let card = try CardFile.decode(EnsembleCard.self, path: path)
        guard card.format == format else {
            throw .malformedModelCard(path: path, reason: "format \"\(card.format)\", expected \"\(format)\"")
        }
        guard !card.members.isEmpty else { throw .malformedModelCard(path: path, reason: "an ensemble needs members") }
        return card
    }
}
