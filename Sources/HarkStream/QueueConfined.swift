/// A value that is only ever touched on one serial queue or thread. The compiler cannot prove
/// that, so the confinement is documented at each use instead.
final class QueueConfined<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
