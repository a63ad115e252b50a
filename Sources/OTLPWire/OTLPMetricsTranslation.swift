import Foundation
import TelemetryModel

typealias Metric = Opentelemetry_Proto_Metrics_V1_Metric

/// OTLP metrics as Prometheus series, translated as Prometheus 3 and
/// VictoriaMetrics do (docs/otlp.md has every rule): sums, gauges,
/// histograms (exponential ones as classic buckets) and summaries, with
/// `job`/`instance` from the resource and a `target_info` series for the
/// rest of its attributes.
public enum OTLPMetricsTranslation {
    /// A request's samples, what its senders said of each family, and what was refused.
    public struct Result: Sendable {
        public var samples: [Sample] = []
        public var families: [Family] = []
        /// Data points in the request.
        public var dataPoints = 0
        /// Data points not translated, by reason (`invalid`, `delta_series_limit`):
        /// counted, and reported in `partial_success`.
        public var rejected: [String: Int] = [:]
        public var firstProblem: String?

        public var rejectedPoints: Int { rejected.values.reduce(0, +) }

        mutating func reject(_ points: Int, _ problem: @autoclosure () -> String, reason: String = "invalid") {
            if points > 0 { rejected[reason, default: 0] += points }
            if firstProblem == nil { firstProblem = problem() }
        }
    }

    /// A metric family as its sender described it.
    public struct Family: Sendable, Equatable {
        public var name: String
        /// `counter`, `gauge`, `histogram` or `summary`, as Prometheus's metadata names them.
        public var type: String
        public var help: String
        public var unit: String
    }


    /// Decodes an `ExportMetricsServiceRequest` and translates it.
    /// `nowMillis` stamps points sent without a time.
    public static func translate(
        _ body: [UInt8], encoding: OTLPEncoding, nowMillis: Int64, deltas: DeltaAccumulator
    ) throws(OTLPError) -> Result {
        let request = try encoding.decode(
            Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self, from: body, what: "ExportMetricsServiceRequest")
        var result = Result()
        var labelNames: [String: String] = [:]
        var metricNames: [MetricNameKey: String] = [:]
        for resourceMetrics in request.resourceMetrics {
            let resource = OTLPResource(resourceMetrics.resource.attributes)
            var newest: Int64?
            for scope in resourceMetrics.scopeMetrics {
                for metric in scope.metrics {
                    var writer = Writer(resource: resource, nowMillis: nowMillis, labelNames: labelNames, metricNames: metricNames)
                    writer.translate(metric, into: &result)
                    labelNames = writer.labelNames
                    metricNames = writer.metricNames
                    result.samples += writer.samples
                    if !writer.deltaSamples.isEmpty {
                        let totals = deltas.accumulate(writer.deltaSamples.map { ($0.labels, $0.value) })
                        for (sample, total) in zip(writer.deltaSamples, totals) {
                            guard let total else {
                                result.reject(1, "series \(sample.labels) passed the \(deltas.maxSeries) delta series held (otlp.max_delta_series)", reason: "delta_series_limit")
                                continue
                            }
                            result.samples.append(Sample(labels: sample.labels, timestamp: sample.timestamp, value: total))
                        }
                    }
                    newest = [newest, writer.newest].compactMap { $0 }.max()
                }
            }
            // target_info: the resource's other attributes, once per resource, at its newest point.
            if !resource.others.isEmpty, let newest {
                let pairs = [(Labels.metricName, "target_info")] + resource.others + resource.identity
                result.samples.append(Sample(labels: Labels(pairs.map { Label($0.0, $0.1) }), timestamp: newest, value: 1))
                if !result.families.contains(where: { $0.name == "target_info" }) {
                    result.families.append(Family(name: "target_info", type: "gauge", help: "Target metadata", unit: ""))
                }
            }
        }
        return result
    }

    struct MetricNameKey: Hashable {
        var name: String
        var unit: String
        var kind: OTLPNaming.Kind
    }

    /// The series of one metric.
    struct Writer {
        let resource: OTLPResource
        let nowMillis: Int64
        /// Attribute keys met in the request and their label names.
        var labelNames: [String: String]
        /// Metric names met in the request and their Prometheus names.
        var metricNames: [MetricNameKey: String]
        var samples: [Sample] = []
        /// Samples of delta temporality, added to their running totals before they are stored.
        var deltaSamples: [Sample] = []
        var newest: Int64?

        mutating func translate(_ metric: Metric, into result: inout Result) {
            guard let data = metric.data else {
                result.reject(0, "metric \"\(metric.name)\" has no data")
                return
            }
            let points = Self.pointCount(data)
            result.dataPoints += points
            guard metric.name.utf8.contains(where: { OTLPNaming.isAlphanumeric($0) || $0 == UInt8(ascii: ":") }) else {
                result.reject(points, "a metric without a name (\(points) data points)")
                return
            }
            let family: Family
            switch data {
            case .gauge(let gauge):
                let name = metricName(metric, .gauge)
                family = Family(name: name, type: "gauge", help: metric.description_p, unit: metric.unit)
                for point in gauge.dataPoints { number(point, name: name, delta: false) }
            case .sum(let sum):
                let delta = sum.aggregationTemporality == .delta
                let name = metricName(metric, sum.isMonotonic ? .counter : .gauge)
                family = Family(name: name, type: sum.isMonotonic ? "counter" : "gauge", help: metric.description_p, unit: metric.unit)
                for point in sum.dataPoints { number(point, name: name, delta: delta) }
            case .histogram(let histogram):
                let name = metricName(metric, .other)
                family = Family(name: name, type: "histogram", help: metric.description_p, unit: metric.unit)
                let delta = histogram.aggregationTemporality == .delta
                for point in histogram.dataPoints {
                    guard point.bucketCounts.isEmpty || point.bucketCounts.count == point.explicitBounds.count + 1 else {
                        result.reject(1, "histogram \"\(metric.name)\": \(point.bucketCounts.count) bucket counts for \(point.explicitBounds.count) bounds (want one more count than bounds)")
                        continue
                    }
                    var buckets: [(Double, UInt64)] = zip(point.explicitBounds, point.bucketCounts).map { ($0, $1) }
                    buckets.append((.infinity, point.bucketCounts.last ?? 0))
                    if point.bucketCounts.isEmpty { buckets = [] }
                    histogramSeries(
                        name: name, attributes: point.attributes, time: point.timeUnixNano, flags: point.flags, count: point.count,
                        sum: point.hasSum ? point.sum : nil, buckets: buckets, delta: delta)
                }
            case .exponentialHistogram(let histogram):
                let name = metricName(metric, .other)
                family = Family(name: name, type: "histogram", help: metric.description_p, unit: metric.unit)
                let delta = histogram.aggregationTemporality == .delta
                for point in histogram.dataPoints {
                    guard let buckets = ExponentialBuckets.classic(point) else {
                        result.reject(1, "exponential histogram \"\(metric.name)\": scale \(point.scale) is outside -10...20")
                        continue
                    }
                    histogramSeries(
                        name: name, attributes: point.attributes, time: point.timeUnixNano, flags: point.flags, count: point.count,
                        sum: point.hasSum ? point.sum : nil, buckets: buckets, delta: delta)
                }
            case .summary(let summary):
                let name = metricName(metric, .other)
                family = Family(name: name, type: "summary", help: metric.description_p, unit: metric.unit)
                for point in summary.dataPoints {
                    let base = labels(point.attributes)
                    let time = timestamp(point.timeUnixNano)
                    let stale = point.flags & 1 != 0
                    for quantile in point.quantileValues {
                        add(base, name: name, extra: ("quantile", floatLabel(quantile.quantile)), time: time, value: stale ? StaleMarker.value : quantile.value, delta: false)
                    }
                    add(base, name: name + "_sum", time: time, value: stale ? StaleMarker.value : point.sum, delta: false)
                    add(base, name: name + "_count", time: time, value: stale ? StaleMarker.value : Double(point.count), delta: false)
                }
            }
            if !result.families.contains(family) { result.families.append(family) }
        }

        /// The metric's Prometheus name, worked out once per name, unit and kind in a request.
        mutating func metricName(_ metric: Metric, _ kind: OTLPNaming.Kind) -> String {
            let key = MetricNameKey(name: metric.name, unit: metric.unit, kind: kind)
            if let known = metricNames[key] { return known }
            let name = OTLPNaming.metricName(metric.name, unit: metric.unit, kind: kind)
            metricNames[key] = name
            return name
        }

        static func pointCount(_ data: Metric.OneOf_Data) -> Int {
            switch data {
            case .gauge(let gauge): gauge.dataPoints.count
            case .sum(let sum): sum.dataPoints.count
            case .histogram(let histogram): histogram.dataPoints.count
            case .exponentialHistogram(let histogram): histogram.dataPoints.count
            case .summary(let summary): summary.dataPoints.count
            }
        }

        mutating func number(_ point: Opentelemetry_Proto_Metrics_V1_NumberDataPoint, name: String, delta: Bool) {
            let value: Double
            switch point.value {
            case .asDouble(let number): value = number
            case .asInt(let number): value = Double(number)
            case nil: value = 0
            }
            let stale = point.flags & 1 != 0
            add(labels(point.attributes), name: name, time: timestamp(point.timeUnixNano), value: stale ? StaleMarker.value : value, delta: delta && !stale)
        }

        /// `_bucket{le=…}` (cumulative counts), `_sum` when sent, `_count`.
        mutating func histogramSeries(
            name: String, attributes: [KeyValue], time: UInt64, flags: UInt32, count: UInt64, sum: Double?,
            buckets: [(upper: Double, count: UInt64)], delta: Bool
        ) {
            let base = labels(attributes)
            let millis = timestamp(time)
            let stale = flags & 1 != 0
            let accumulate = delta && !stale
            var cumulative: UInt64 = 0
            for bucket in buckets {
                cumulative &+= bucket.count
                add(base, name: name + "_bucket", extra: ("le", floatLabel(bucket.upper)), time: millis,
                    value: stale ? StaleMarker.value : Double(cumulative), delta: accumulate)
            }
            if let sum { add(base, name: name + "_sum", time: millis, value: stale ? StaleMarker.value : sum, delta: accumulate) }
            add(base, name: name + "_count", time: millis, value: stale ? StaleMarker.value : Double(count), delta: accumulate)
        }

        /// The point's attributes as labels, then the resource's `job` and `instance`
        /// (which win over attributes of those names): the labels its series share.
        mutating func labels(_ attributes: [KeyValue]) -> Labels {
            Labels((OTLPAttributes.labels(attributes, names: &labelNames) + resource.identity).map { Label($0.0, $0.1) })
        }

        func timestamp(_ nanos: UInt64) -> Int64 {
            nanos == 0 ? nowMillis : Int64(clamping: nanos / 1_000_000)
        }

        mutating func add(_ base: Labels, name: String, extra: (String, String)? = nil, time: Int64, value: Double, delta: Bool) {
            var labels = base.setting(Labels.metricName, to: name)
            if let extra { labels = labels.setting(extra.0, to: extra.1) }
            let sample = Sample(labels: labels, timestamp: time, value: value)
            if delta { deltaSamples.append(sample) } else { samples.append(sample) }
            newest = max(newest ?? time, time)
        }
    }
}
