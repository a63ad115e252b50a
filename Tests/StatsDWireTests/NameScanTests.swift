import Testing
import TelemetryModel
@testable import StatsDWire

/// The name is scanned eight bytes at a time: every bad byte in every
/// position of names up to 40 bytes is still caught, and clean names of
/// every length end exactly at their ':'.
@Suite("StatsD name scan, a word at a time")
struct NameScanTests {
    @Test func aBadByteAnywhereInTheNameIsRejected() {
        var missed: [String] = []
        for length in 1...40 {
            for position in 0..<length {
                for bad: UInt8 in [0x01, 0x09, 0x1F, 0x7F, 0x80, 0xC3, 0xFF] {
                    var name = Array(repeating: UInt8(ascii: "a"), count: length)
                    name[position] = bad
                    guard case .failure(let error) = parseBytes(name + Array(":1|c".utf8)), error.reason == .invalidName else {
                        missed.append("length \(length), byte \(bad) at \(position)")
                        continue
                    }
                }
            }
        }
        #expect(missed.isEmpty, "not rejected as invalid_name: \(missed.prefix(5))")
    }

    @Test func cleanNamesOfEveryLengthEndAtTheirColon() {
        let alphabet = Array("abcXYZ019._-/ ~".utf8)
        for length in 1...40 {
            let name = (0..<length).map { alphabet[($0 * 7 + length) % alphabet.count] }
            for kind in ["c", "ms", "g"] {
                let line = name + Array(":5|\(kind)|#env:prod".utf8)
                guard case .metric(let metric) = parseBytes(line) else {
                    Issue.record("length \(length) \(kind): not accepted")
                    continue
                }
                #expect(metric.name == 0..<length)
                #expect(metric.firstValue == 5)
            }
        }
    }

    @Test func aPipeBeforeTheColonIsStillAMissingColon() {
        for length in 1...20 {
            let line = Array(repeating: UInt8(ascii: "n"), count: length) + Array("|c:1".utf8)
            guard case .failure(let error) = parseBytes(line) else {
                Issue.record("length \(length): accepted")
                continue
            }
            #expect(error.reason == .missingColon)
        }
    }

    @Test func wordTestsAgreeWithTheirByteDefinitions() {
        var rng = SystemRandomNumberGenerator()
        var wrong: [UInt64] = []
        for _ in 0..<50_000 {
            var word = rng.next() as UInt64
            // Bias towards ASCII words, where the tests have work to do.
            if Bool.random(using: &rng) { word &= 0x7F7F_7F7F_7F7F_7F7F }
            var colon = false
            var bad = false
            for k in 0..<8 {
                let byte = UInt8(truncatingIfNeeded: word >> (8 * k))
                colon = colon || byte == UInt8(ascii: ":")
                bad = bad || byte < 0x20 || byte >= 0x7F
            }
            // A false alarm of the second test only costs the exact check; a miss would skip it.
            if StatsDParser.hasByte(word, UInt8(ascii: ":")) != colon || (bad && !StatsDParser.hasControlOrNonASCII(word)) {
                wrong.append(word)
            }
        }
        #expect(wrong.isEmpty, "words misjudged: \(wrong.prefix(5))")
    }
}
