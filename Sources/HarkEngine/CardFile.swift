import Foundation

/// Reading the JSON cards in `Models/`: their kind and their decoded form, with errors that name the file.
public enum CardFile {
    public enum Kind: Sendable, Equatable {
        /// One network (`ModelCard`).
        case model
        /// Several networks averaged (`EnsembleCard`).
        case ensemble
    }

    /// What the card at `path` declares itself to be (by its `format`).
    public static func kind(path: String) throws(EngineError) -> Kind {
        struct Header: Decodable { var format: String? }
        let header = try? JSONDecoder().decode(Header.self, from: try read(path))
        return header?.format == EnsembleCard.format ? .ensemble : .model
    }

    static func read(_ path: String) throws(EngineError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableFile(path: path, reason: error.localizedDescription)
        }
    }

    static func decode<Card: Decodable>(_ type: Card.Type, path: String) throws(EngineError) -> Card {
        let data = try read(path)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .malformedModelCard(path: path, reason: String(describing: error))
        }
    }
}
