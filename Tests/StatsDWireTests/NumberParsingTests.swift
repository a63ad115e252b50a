import Testing
@testable import StatsDWire

@Suite("Decimal numbers from bytes")
struct NumberParsingTests {
    func value(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { NumberParsing.parseDouble($0, 0..<bytes.count) }
    }

    @Test(arguments: ["0", "1", "-1", "+1", "0.1", "3.14159", "1e10", "1E-10", "123456789012345678901234567890",
                      "0.000000000000000000001", "9007199254740993", "2.2250738585072014e-308", "1.7976931348623157e308",
                      "4.9e-324", ".5", "5.", "00012"])
    func matchesTheStandardLibrary(_ text: String) {
        #expect(value(text) == Double(text), "\(text)")
    }

    @Test(arguments: ["", "-", ".", "e5", "1e", "1e+", "0x10", "NaN", "inf", "1e309", "1.2.3", "1 ", " 1", "1_000"])
    func refuses(_ text: String) {
        #expect(value(text) == nil, "\(text)")
    }
}
