import Testing
import TelemetryModel
@testable import Aggregation

/// The family hash, taken a word at a time where a name needs no
/// sanitising, is the hash of the sanitised name fed byte by byte.
@Suite("Family hash")
struct FamilyHashTests {
    /// The byte-by-byte definition.
    static func reference(_ name: [UInt8], _ kind: MetricKind) -> UInt64 {
        var hasher = WordHasher()
        if let first = name.first, first &- UInt8(ascii: "0") < 10 { hasher.feed(UInt8(ascii: "_")) }
        for c in name {
            let allowed = (c | 0x20) &- UInt8(ascii: "a") < 26 || c &- UInt8(ascii: "0") < 10
                || c == UInt8(ascii: "_") || c == UInt8(ascii: ":")
            hasher.feed(allowed ? c : UInt8(ascii: "_"))
        }
        switch kind {
        case .counter: for c in "_total".utf8 { hasher.feed(c) }
        case .timer: for c in "_seconds".utf8 { hasher.feed(c) }
        default: break
        }
        return hasher.finish()
    }

    @Test func wordAtATimeEqualsByteByByte() {
        // Every byte value in every position of a 17-byte name, and random names of every length to 40.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcxyzABCXYZ0189_:.-/@[`{~ é".utf8) + [0, 0x7F, 0x80, 0xFF, 0x40, 0x5B, 0x60, 0x7B, 0x2F, 0x3A, 0x3B]
        var names: [[UInt8]] = []
        for byte in 0...255 {
            for position in 0..<17 {
                var name = Array("service_latency_x".utf8)
                name[position] = UInt8(byte)
                names.append(name)
            }
        }
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...40, using: &generator)
            names.append((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
        }
        for name in names {
            for kind in [MetricKind.counter, .gauge, .timer, .set] {
                let padded = [UInt8(ascii: "#")] + name + [UInt8(ascii: ":")]
                let fast = padded.withUnsafeBytes { LineRouter.familyHash($0, 1..<(1 + name.count), kind) }
                #expect(fast == Self.reference(name, kind), "\(name) \(kind)")
            }
        }
    }

    @Test func theWordSanitisingKeepsExactlyTheNameBytes() {
        for byte in 0...255 {
            let c = UInt8(byte)
            let keeps = (c | 0x20) &- UInt8(ascii: "a") < 26 || c &- UInt8(ascii: "0") < 10 || c == UInt8(ascii: "_") || c == UInt8(ascii: ":")
            for position in 0..<8 {
                let word = UInt64(c) << (8 * position) | (0x6161_6161_6161_6161 & ~(UInt64(0xFF) << (8 * position)))
                let expected = UInt64(keeps ? c : UInt8(ascii: "_")) << (8 * position) | (0x6161_6161_6161_6161 & ~(UInt64(0xFF) << (8 * position)))
                #expect(WordHasher.sanitized(word) == expected, "byte \(byte) at \(position)")
            }
        }
    }
}
