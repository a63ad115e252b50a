/// Damaged variants of valid inputs, for tests that feed parsers garbage and
/// check they refuse it without crashing, hanging or growing without bound.
/// Seeded, so a failure names the exact input and repeats.
public struct Mutator: Sendable {
    private var random: SplitMix64

    /// Bytes that matter to the grammars under test (brackets, quotes, operators,
    /// separators, digits), plus NUL, a lone UTF-8 lead byte and invalid bytes.
    private static let interesting: [UInt8] = Array(#"{}[]()<>|=~!"'`\,.:;#@_-+*/%^&?$ 0123456789eEaZ"#.utf8)
        + [0x00, 0x0A, 0x0D, 0x09, 0x7F, 0xC3, 0xE2, 0xF0, 0xFF, 0x80]

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    /// `input` after one to four edits: a byte replaced, inserted or deleted, a
    /// slice duplicated or cut out, or the end truncated.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<7, using: &random) {
            case 0 where !bytes.isEmpty: bytes[position] = pick()
            case 1: bytes.insert(pick(), at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &random))
                bytes.insert(contentsOf: bytes[position..<end], at: Int.random(in: 0...bytes.count, using: &random))
            case 4 where !bytes.isEmpty:
                bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &random)))
            case 5: bytes.removeLast(bytes.count - position)
            default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
            }
        }
        return bytes
    }

    /// The same, for text; invalid UTF-8 is repaired the way `String` does it.
    public mutating func mutate(_ text: String) -> String {
        String(decoding: mutate(Array(text.utf8)), as: UTF8.self)
    }

    /// Up to `maxCount` bytes, mostly interesting ones.
    public mutating func garbage(maxCount: Int) -> [UInt8] {
        (0..<Int.random(in: 0...maxCount, using: &random)).map { _ in
            Bool.random(using: &random) ? pick() : UInt8.random(in: 0...255, using: &random)
        }
    }

    private mutating func pick() -> UInt8 {
        Self.interesting[Int.random(in: 0..<Self.interesting.count, using: &random)]
    }
}
