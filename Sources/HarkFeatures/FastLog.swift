/// Natural logarithm of 4 positive normal floats at once (Cephes `logf`: mantissa in [√½, √2),
/// degree-9 polynomial, exponent added in two parts), about 1 ulp — far inside the front-end's
/// 0.01 dB parity budget, and 4× fewer calls than `log10f` per value.
@inline(__always) func log4(_ v: F4) -> F4 {
    let bits = unsafeBitCast(v, to: SIMD4<UInt32>.self)
    var e = SIMD4<Int32>(truncatingIfNeeded: (bits &>> 23) & 0xff) &- 126
    var m = unsafeBitCast((bits & 0x807f_ffff) | 0x3f00_0000, to: F4.self)  // [0.5, 1)
    let small = m .< F4(repeating: 0.707106781186547524)
    e.replace(with: e &- 1, where: small)
    m = m.replacing(with: m + m, where: small) - 1
    let z = m * m
    var y = F4(repeating: 7.0376836292e-2)
    y = y * m - 1.1514610310e-1
    y = y * m + 1.1676998740e-1
    y = y * m - 1.2420140846e-1
    y = y * m + 1.4249322787e-1
    y = y * m - 1.6668057665e-1
    y = y * m + 2.0000714765e-1
    y = y * m - 2.4999993993e-1
    y = y * m + 3.3333331174e-1
    y = y * m * z
    let ef = F4(e)
    y += ef * -2.12194440e-4
    y -= z * 0.5
    return m + y + ef * 0.693359375
}
