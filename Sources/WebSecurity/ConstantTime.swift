/// Compares two byte strings in time that depends only on their lengths,
/// so that a client cannot learn a secret a byte at a time from how long a
/// refusal takes.
func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
