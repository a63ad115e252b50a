/// The naming scheme shared by every path into tally (docs/naming.md):
/// StatsD names and DogStatsD tags become Prometheus metric and label names.
public enum MetricNaming {
    /// Label names that tally itself sets on the series it derives; a tag of
    /// the same name is kept under `tag_<name>` instead.
    public static let reservedLabelNames: Set<String> = ["quantile", "le"]

    /// A Prometheus metric name from StatsD name bytes: every byte outside
    /// `[a-zA-Z0-9_:]` becomes `_` (one `_` per byte, so a multi-byte UTF-8
    /// character becomes several), and a leading digit gets a `_` before it.
    public static func metricName(_ bytes: UnsafeRawBufferPointer) -> String {
        sanitize(bytes, allowColon: true)
    }

    /// A Prometheus label name from a tag key: like a metric name but without
    /// `:`; names Prometheus reserves (`__…`) and tally's own (`quantile`,
    /// `le`) are prefixed with `tag_`.
    public static func labelName(_ bytes: UnsafeRawBufferPointer) -> String {
        let name = sanitize(bytes, allowColon: false)
        if name.hasPrefix("__") || reservedLabelNames.contains(name) { return "tag_" + name }
        return name
    }

    private static func sanitize(_ bytes: UnsafeRawBufferPointer, allowColon: Bool) -> String {
        let leadingDigit = bytes.first.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false
        let length = max(1, bytes.count + (leadingDigit ? 1 : 0))
        return String(unsafeUninitializedCapacity: length) { out in
            var k = 0
            if leadingDigit {
                out[0] = UInt8(ascii: "_")
                k = 1
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                    out[k] = byte
                case UInt8(ascii: ":") where allowColon:
                    out[k] = byte
                default:
                    out[k] = UInt8(ascii: "_")
                }
                k += 1
            }
            if k == 0 {
                out[0] = UInt8(ascii: "_")
                k = 1
            }
            return k
        }
    }

    /// The value a tag without `:value` gets as its label value.
    public static let valuelessTagValue = "true"

    /// Labels from DogStatsD tag bytes (`k:v,k2:v2`, without the `#`): keys
    /// are sanitised, values kept as sent (valid UTF-8 is checked by the
    /// parser), a tag without `:` gets `"true"`, a tag with an empty value
    /// (`k:`) is dropped, the last of two equal keys wins (when building
    /// `Labels`), and empty tags are skipped.
    public static func labels(fromTags bytes: UnsafeRawBufferPointer) -> [Label] {
        var result: [Label] = []
        var start = 0
        let end = bytes.count
        while start < end {
            var stop = start
            while stop < end, bytes[stop] != UInt8(ascii: ",") { stop += 1 }
            if stop > start {
                var colon = start
                while colon < stop, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
                if colon < stop {
                    // `k:` has an empty value, which Prometheus reads as no label.
                    if colon > start, colon + 1 < stop {
                        result.append(Label(
                            labelName(UnsafeRawBufferPointer(rebasing: bytes[start..<colon])),
                            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(colon + 1)..<stop]), as: UTF8.self)))
                    }
                } else {
                    result.append(Label(labelName(UnsafeRawBufferPointer(rebasing: bytes[start..<stop])), valuelessTagValue))
                }
            }
            start = stop + 1
        }
        return result
    }

    /// `metricName` for any byte collection (tests, cold paths).
    public static func metricName<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        Array(bytes).withUnsafeBytes { metricName($0) }
    }

    /// `labels(fromTags:)` for any byte collection (tests, cold paths).
    public static func labels<C: Collection>(fromTags bytes: C) -> [Label] where C.Element == UInt8 {
        Array(bytes).withUnsafeBytes { labels(fromTags: $0) }
    }
}
