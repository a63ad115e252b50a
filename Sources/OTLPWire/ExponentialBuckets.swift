import Foundation

/// An exponential histogram point as classic buckets (upper bound, count),
/// in increasing order of bound, ending with `+Inf`; counts are per bucket,
/// not yet cumulative.
///
/// With base = 2^(2^-scale), positive bucket `i` holds values in
/// (base^i, base^(i+1)], so its upper bound is base^(i+1); negative bucket
/// `i` holds [-base^(i+1), -base^i), bound -base^i; the zero bucket holds
/// [-zero_threshold, zero_threshold], bound zero_threshold. Every bucket
/// of the point becomes one `le` series, empty ones included, so a series'
/// bounds stay put while the point's scale does.
enum ExponentialBuckets {
    static func classic(_ point: Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint) -> [(upper: Double, count: UInt64)]? {
        guard (-10...20).contains(point.scale) else { return nil }
        let base = pow(2.0, pow(2.0, -Double(point.scale)))
        func power(_ index: Int) -> Double { pow(base, Double(index)) }
        var buckets: [(upper: Double, count: UInt64)] = []
        let negative = point.negative
        for k in stride(from: negative.bucketCounts.count - 1, through: 0, by: -1) {
            buckets.append((-power(Int(negative.offset) + k), negative.bucketCounts[k]))
        }
        buckets.append((point.zeroThreshold, point.zeroCount))
        let positive = point.positive
        for (k, count) in positive.bucketCounts.enumerated() {
            buckets.append((power(Int(positive.offset) + k + 1), count))
        }
        let counted = buckets.reduce(UInt64(0)) { $0 &+ $1.count }
        buckets.append((.infinity, point.count >= counted ? point.count - counted : 0))
        return buckets
    }
}
