/// The naming scheme shared by every path into tally (docs/naming.md):
/// StatsD names and DogStatsD tags become Prometheus metric and label names.
public enum MetricNaming {
    /// Label names that tally itself sets on the series it derives; a tag of
    /// the same name is kept under `tag_<name>` instead.
    public static let reservedLabelNames: Set<String> = ["quantile", "le"]

    /// A Prometheus metric name from StatsD name bytes: every byte outside
    /// `[a-zA-Z0-9_:]` becomes `_` (one `_` per byte, so a multi-byte UTF-8
    /// character becomes several), and a leading digit gets a `_` before it.
    public static func metricName<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        sanitize(bytes, allowColon: true)
    }

    /// A Prometheus label name from a tag key: like a metric name but without
    /// `:`; names Prometheus reserves (`__…`) and tally's own (`quantile`,
    /// `le`) are prefixed with `tag_`.
    public static func labelName<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let name = sanitize(bytes, allowColon: false)
        if name.hasPrefix("__") || reservedLabelNames.contains(name) { return "tag_" + name }
        return name
    }

    private static func sanitize<C: Collection>(_ bytes: C, allowColon: Bool) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 1)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: ":") where allowColon:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "_"))
            }
        }
        if let first = out.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
            out.insert(UInt8(ascii: "_"), at: 0)
        }
        if out.isEmpty { out.append(UInt8(ascii: "_")) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value a tag without `:value` gets as its label value.
    public static let valuelessTagValue = "true"

    /// Labels from DogStatsD tag bytes (`k:v,k2:v2`, without the `#`): keys
    /// are sanitised, values kept as sent (valid UTF-8 is checked by the
    /// parser), a tag without `:` gets `"true"`, a tag with an empty value
    /// (`k:`) is dropped, the last of two equal keys wins (when building
    /// `Labels`), and empty tags are skipped.
    public static func labels<C: Collection>(fromTags bytes: C) -> [Label] where C.Element == UInt8, C.Index == Int {
        var result: [Label] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            var end = start
            while end < bytes.endIndex, bytes[end] != UInt8(ascii: ",") { end += 1 }
            if end > start {
                let tag = bytes[start..<end]
                if let colon = tag.firstIndex(of: UInt8(ascii: ":")) {
                    let key = tag[tag.startIndex..<colon]
                    let value = tag[(colon + 1)...]
                    // `k:` has an empty value, which Prometheus reads as no label.
                    if !key.isEmpty, !value.isEmpty {
                        result.append(Label(labelName(key), String(decoding: value, as: UTF8.self)))
                    }
                } else {
                    result.append(Label(labelName(tag), valuelessTagValue))
                }
            }
            start = end + 1
        }
        return result
    }
}
