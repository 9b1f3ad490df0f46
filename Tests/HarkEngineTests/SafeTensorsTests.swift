import Foundation
import HarkEngine
import Testing

@Suite struct SafeTensorsTests {
    func file(header: String, payload: [UInt8]) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: payload)
        return d
    }

    @Test func readsFloat32AndFloat16() throws {
        let f32: [UInt8] = withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian) { Array($0) }
        let f16: [UInt8] = [0x00, 0x3c, 0x00, 0xc0]  // 1.0, -2.0
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[2],"data_offsets":[4,8]},"__metadata__":{"x":"y"}}"#
        let t = try SafeTensors.parse(file(header: header, payload: f32 + f16))
        #expect(t["a"] == Tensor(shape: [1], values: [1.5]))
        #expect(t["b"] == Tensor(shape: [2], values: [1, -2]))
    }

    @Test func rejectsMalformedFiles() {
        #expect(throws: EngineError.self) { try SafeTensors.parse(Data([1, 2, 3])) }
        #expect(throws: EngineError.self) { try SafeTensors.parse(file(header: "{}", payload: []).prefix(9)) }
        #expect(throws: EngineError.self) { try SafeTensors.parse(file(header: "not json", payload: [])) }
        let outOfRange = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        #expect(throws: EngineError.self) { try SafeTensors.parse(file(header: outOfRange, payload: [0, 0, 0, 0])) }
        let badType = #"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#
        #expect(throws: EngineError.self) { try SafeTensors.parse(file(header: badType, payload: [UInt8](repeating: 0, count: 8))) }
    }

    @Test func missingWeightsFileIsNamed() {
        #expect(throws: EngineError.self) { try SafeTensors.load(path: "/nonexistent/model.safetensors") }
    }
}
