/// A float as an `le` or `quantile` label value: the shortest digits that
/// read back as the same number, in plain notation (`0.005`, `1`, `250`,
/// `0.00001`), `+Inf` and `-Inf` for the infinities, as Prometheus writes them.
func floatLabel(_ value: Double) -> String {
    if value == .infinity { return "+Inf" }
    if value == -.infinity { return "-Inf" }
    if value.isNaN { return "NaN" }
    if value == 0 { return "0" }
    var text = "\(value)"
    let negative = text.hasPrefix("-")
    if negative { text.removeFirst() }
    var mantissa = Substring(text)
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = text[..<e]
        exponent = Int(text[text.index(after: e)...]) ?? 0
    }
    var digits = Array(mantissa.filter { $0 != "." })
    var point = (mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count) + exponent
    if point <= 0 {
        digits = Array(repeating: "0", count: 1 - point) + digits
        point = 1
    }
    if point > digits.count { digits += Array(repeating: "0", count: point - digits.count) }
    var whole = digits[..<point].drop { $0 == "0" }
    if whole.isEmpty { whole = ["0"] }
    var fraction = digits[point...]
    while fraction.last == "0" { fraction.removeLast() }
    return (negative ? "-" : "") + String(whole) + (fraction.isEmpty ? "" : "." + String(fraction))
}
