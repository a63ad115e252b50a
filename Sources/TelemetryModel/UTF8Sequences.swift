/// The length of the valid UTF-8 sequence that starts at `i` in
/// `bytes[..<end]`, or 0 when the byte there starts none (a stray
/// continuation byte, an overlong form, a surrogate, past U+10FFFF, or a
/// sequence cut by `end`). The wire decoders check received bytes with it.
@inlinable
public func utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int, end: Int) -> Int {
    let b = bytes[i]
    if b < 0x80 { return 1 }
    let need: Int
    var minimum: UInt32
    var scalar: UInt32
    switch b {
    case 0xC2...0xDF: need = 1; minimum = 0x80; scalar = UInt32(b & 0x1F)
    case 0xE0...0xEF: need = 2; minimum = 0x800; scalar = UInt32(b & 0x0F)
    case 0xF0...0xF4: need = 3; minimum = 0x10000; scalar = UInt32(b & 0x07)
    default: return 0
    }
    guard i + need < end else { return 0 }
    for k in 1...need {
        let c = bytes[i + k]
        guard c & 0xC0 == 0x80 else { return 0 }
        scalar = scalar << 6 | UInt32(c & 0x3F)
    }
    if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return 0 }
    return need + 1
}
