/// Why a model could not be loaded or run. Messages name the file or tensor at fault.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case unreadableFile(path: String, reason: String)
    case malformedSafeTensors(path: String, reason: String)
    case malformedModelCard(path: String, reason: String)
    case missingTensor(name: String)
    case wrongShape(name: String, expected: [Int], got: [Int])
    case unsupported(String)
    case wrongInputSize(expected: Int, got: Int)
    case unknownLayer(name: String, available: [String])

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason): return "\(path): cannot be read (\(reason))"
        case .malformedSafeTensors(let path, let reason): return "\(path): not a valid safetensors file (\(reason))"
        case .malformedModelCard(let path, let reason): return "\(path): not a valid model card (\(reason))"
        case .missingTensor(let name): return "model weights lack tensor '\(name)'"
        case .wrongShape(let name, let expected, let got): return "tensor '\(name)' has shape \(got), expected \(expected)"
        case .unsupported(let what): return "unsupported model: \(what)"
        case .wrongInputSize(let expected, let got): return "model input must have \(expected) values, got \(got)"
        case .unknownLayer(let name, let available):
            return "no layer named '\(name)'; this model exposes: \(available.joined(separator: ", "))"
        }
    }
}
