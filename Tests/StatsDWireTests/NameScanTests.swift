import Testing
import TelemetryModel
@testable import StatsDWire

/// The name is scanned eight bytes at a time: every bad byte in every
/// position of names up to 40 bytes is still caught, and clean names of
/// every length end exactly at their ':'.
@Suite("StatsD name scan, a word at a time")
struct NameScanTests {
    @Test func aBadByteAnywhereInTheNameIsRejected() {
        for length in 1...40 {
            for position in 0..<length {
                for bad: UInt8 in [0x01, 0x09, 0x1F, 0x7F, 0x80, 0xC3, 0xFF] {
                    var name = Array(repeating: UInt8(ascii: "a"), count: length)
                    name[position] = bad
                    let outcome = parseBytes(name + Array(":1|c".utf8))
                    guard case .failure(let error) = outcome else {
                        Issue.record("length \(length), byte \(bad) at \(position): accepted")
                        continue
                    }
                    #expect(error.reason == .invalidName, "length \(length), byte \(bad) at \(position)")
                }
            }
        }
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
        for _ in 0..<200_000 {
            var word = rng.next() as UInt64
            // Bias towards ASCII words, where the tests have work to do.
            if Bool.random(using: &rng) { word &= 0x7F7F_7F7F_7F7F_7F7F }
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) }
            #expect(StatsDParser.hasByte(word, UInt8(ascii: ":")) == bytes.contains(UInt8(ascii: ":")))
            let bad = bytes.contains { $0 < 0x20 || $0 >= 0x7F }
            // A false alarm only costs the exact check; a miss would skip it.
            if bad { #expect(StatsDParser.hasControlOrNonASCII(word)) }
        }
    }
}
