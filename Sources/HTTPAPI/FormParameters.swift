/// Parameters from a URL query string or an `application/x-www-form-urlencoded`
/// body, with repeated keys kept (`match[]=a&match[]=b`), as Prometheus reads them.
struct FormParameters {
    private var values: [String: [String]] = [:]

    init() {}

    /// Parses `a=1&b=2`; `+` is a space and `%XX` an escaped byte.
    init(encoded: String) {
        for pair in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            values[key, default: []].append(value)
        }
    }

    /// Adds every parameter of another set (a POST body after the URL's query).
    mutating func merge(_ other: FormParameters) {
        for (key, list) in other.values { values[key, default: []].append(contentsOf: list) }
    }

    /// The first value of a key, or nil.
    subscript(key: String) -> String? { values[key]?.first }

    /// Every value of a key.
    func all(_ key: String) -> [String] { values[key] ?? [] }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                if iterator.count >= 2, let high = hexValue(iterator[iterator.startIndex]),
                   let low = hexValue(iterator[iterator.startIndex + 1]) {
                    bytes.append(high << 4 | low)
                    iterator = iterator.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
