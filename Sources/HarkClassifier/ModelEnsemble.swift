import Foundation
import HarkEngine
import HarkFeatures

/// What a card names: one network (a model card) or several whose window probabilities are
/// averaged (an ensemble card). A single network is an ensemble of one.
public struct ModelEnsemble: Sendable {
    public let name: String
    /// The networks, in the card's order; the first one's feature maps are published.
    public let members: [ResNet]
    /// The ensemble card, when the model is one.
    public let card: EnsembleCard?

    public init(_ network: ResNet) {
        name = network.card.name
        members = [network]
        card = nil
    }

    /// Checks that the members agree on what a window and a class are.
    public init(card: EnsembleCard, members: [ResNet], path: String = "") throws(EngineError) {
        guard let first = members.first else { throw .malformedModelCard(path: path, reason: "an ensemble needs members") }
        for m in members.dropFirst() {
            guard m.labels.map(\.name) == first.labels.map(\.name) else {
                throw .malformedModelCard(path: path, reason: "member \(m.card.name)'s labels differ from \(first.card.name)'s")
            }
            guard m.card.frontend.logMel.windowSeconds == first.card.frontend.logMel.windowSeconds else {
                throw .malformedModelCard(path: path, reason: "member \(m.card.name)'s window is \(m.card.frontend.logMel.windowSeconds) s, "
                                          + "\(first.card.name)'s \(first.card.frontend.logMel.windowSeconds) s")
            }
        }
        name = card.name
        self.members = members
        self.card = card
    }

    /// Loads a model card (one network) or an ensemble card and its members' cards and weights.
    public static func load(cardPath: String, policy: ConvolutionPolicy = .automatic) throws(EngineError) -> ModelEnsemble {
        guard try CardFile.kind(path: cardPath) == .ensemble else {
            return ModelEnsemble(try ResNet.load(cardPath: cardPath, policy: policy))
        }
        let card = try EnsembleCard.load(path: cardPath)
        let folder = URL(fileURLWithPath: cardPath).deletingLastPathComponent()
        var members: [ResNet] = []
        for member in card.members {
            let path = folder.appendingPathComponent(member).path
            guard try CardFile.kind(path: path) == .model else {
                throw .malformedModelCard(path: cardPath, reason: "member \(member) is itself an ensemble")
            }
            members.append(try ResNet.load(cardPath: path, policy: policy))
        }
        return try ModelEnsemble(card: card, members: members, path: cardPath)
    }

    /// The first member: the maps member unless another is chosen.
    public var primary: ResNet { members[0] }

    /// The index of the member whose card is named `name`; nil names the first.
    public func memberIndex(named name: String?) throws(ClassifierError) -> Int {
        guard let name else { return 0 }
        guard let index = members.firstIndex(where: { $0.card.name == name }) else {
            throw .unknownMember(name: name, members: members.map(\.card.name))
        }
        return index
    }
    public var labels: [ModelCard.Label] { primary.labels }
    /// The detector settings fitted for what this model scores: the ensemble card's for an
    /// ensemble (its averaged scores are not any member's), the network's own for one network.
    public var detection: DetectionCalibration? { card != nil ? card?.detection : primary.card.detection }
    /// Seconds of audio per window (the same for every member).
    public var windowSeconds: Double { primary.card.frontend.logMel.windowSeconds }
    /// The front-end whose rate audio is prepared at: the highest-rate member's, so that no member
    /// loses band; the others resample each window down to their own rate.
    private var widestInput: LogMelParameters {
        members.map(\.card.frontend.logMel).max { $0.sampleRate < $1.sampleRate } ?? primary.card.frontend.logMel
    }
    public var sampleRate: Int { widestInput.sampleRate }
    /// Samples per window at `sampleRate`.
    public var windowSamples: Int { widestInput.windowSamples }
}
