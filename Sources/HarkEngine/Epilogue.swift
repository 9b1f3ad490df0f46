/// What happens to a convolution's output after the matrix product, in the same pass over memory:
/// add the folded batch-norm bias, optionally add a residual, optionally clamp at zero.
struct Epilogue {
    var relu: Bool
    var residual: UnsafePointer<Float>?

    /// Applies bias (per channel), residual and ReLU to `count = channels × plane` values in place.
    func apply(_ out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, channels: Int, plane: Int) {
        for c in 0..<channels {
            let b = bias[c]
            let row = out + c * plane
            if let residual {
                let res = residual + c * plane
                if relu {
                    for i in 0..<plane { row[i] = max(row[i] + b + res[i], 0) }
                } else {
                    for i in 0..<plane { row[i] = row[i] + b + res[i] }
                }
            } else if relu {
                for i in 0..<plane { row[i] = max(row[i] + b, 0) }
            } else {
                for i in 0..<plane { row[i] += b }
            }
        }
    }
}
