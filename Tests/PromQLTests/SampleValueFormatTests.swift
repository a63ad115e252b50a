import Testing
@testable import PromQL

/// Sample values as Prometheus writes them in JSON (Go's FormatFloat(v, 'f', -1, 64)).
@Suite("Sample value formatting")
struct SampleValueFormatTests {
    @Test(arguments: [
        (0.0, "0"), (-0.0, "-0"), (1, "1"), (-3, "-3"), (1e6, "1000000"), (1e21, "1000000000000000000000"),
        (9_007_199_254_740_991, "9007199254740991"), (9_007_199_254_740_992, "9007199254740992"), (0.1, "0.1"),
        (1.5e-7, "0.00000015"), (123_456_789.25, "123456789.25"), (2.5, "2.5"), (74_289_970_070, "74289970070"),
        (.infinity, "+Inf"), (-.infinity, "-Inf"), (.nan, "NaN"),
    ])
    func asGoWritesThem(_ value: Double, _ text: String) {
        var out: [UInt8] = []
        appendSampleValue(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == text)
    }
}
