import Foundation
import TallyTestKit
import TelemetryModel
import Testing
import TimeSeriesStorage
@testable import PromQL

/// The same data in a real Prometheus (blocks from `promtool tsdb
/// create-blocks-from openmetrics`) and in tally (`tally tsdb import`'s
/// code): every query below runs on both, as instant queries at several
/// times and as range queries at two steps, and the answers must agree:
/// same series and labels, values within 1e-9 relative, the same errors.
@Suite("PromQL against a real Prometheus", .serialized)
struct DifferentialTests {
    static let t0 = DifferentialData.start
    static let end = DifferentialData.start + DifferentialData.duration

    static let counter = #"http_requests_total{job="api",status="500"}"#
    static let gauge = "memory_bytes"
    static let floats = "temperature_celsius"
    static let buckets = "request_duration_seconds_bucket"

    static var queries: [String] {
        var q: [String] = []
        let rangeFunctions = ["rate", "irate", "increase", "delta", "idelta", "deriv", "resets", "changes",
                              "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
                              "last_over_time", "stddev_over_time", "stdvar_over_time", "present_over_time"]
        for f in rangeFunctions {
            for selector in [counter, gauge, floats] {
                for range in ["1m", "5m", "20m"] { q.append("\(f)(\(selector)[\(range)])") }
            }
        }
        q += ["quantile_over_time(0.9, \(floats)[10m])", "quantile_over_time(0.5, \(counter)[5m])",
              "quantile_over_time(0, \(gauge)[5m])", "quantile_over_time(1.5, \(gauge)[5m])",
              "predict_linear(\(gauge)[30m], 600)", "predict_linear(\(counter)[10m], 3600)",
              "holt_winters(\(gauge)[10m], 0.3, 0.6)", "absent_over_time(nonexistent[5m])",
              "absent_over_time(\(gauge)[5m])", #"absent_over_time(nonexistent{job="x"}[5m])"#,
              "rate(http_requests_total[5m])", "increase(http_requests_total[1h])", "irate(http_requests_total[1m])",
              "resets(http_requests_total[30m])", "rate(\(buckets)[5m])"]
        for op in ["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"] {
            q += ["\(op)(rate(http_requests_total[5m]))", "\(op) by (job) (rate(http_requests_total[5m]))",
                  "\(op) without (instance) (\(gauge))", "\(op) by (job, status) (http_requests_total)",
                  "\(op)(\(floats))"]
        }
        q += ["topk(3, \(gauge))", "bottomk(2, rate(http_requests_total[5m]))", "topk by (job) (1, \(gauge))",
              "bottomk without (instance) (1, \(floats))", "quantile(0.5, \(gauge))",
              "quantile by (job) (0.9, rate(http_requests_total[5m]))", "quantile(0, \(floats))", "quantile(2, \(gauge))",
              #"count_values("v", up)"#, #"count_values by (job) ("version", build_info)"#,
              #"count_values("value", round(\#(floats) / 10))"#, "sum(\(gauge)) by (instance)", "count(up) by (job)"]
        q += ["rate(http_requests_total[5m]) * 60", "2 * \(gauge)", "\(gauge) / 1024 / 1024", "\(gauge) > 200000000",
              "\(gauge) > bool 200000000", "200000000 < \(gauge)", "\(counter) - \(counter) offset 5m",
              "rate(http_requests_total[5m]) / on(job, instance, method) group_left sum by (job, instance, method) (rate(http_requests_total[5m]))",
              "sum by (job, instance, method) (rate(http_requests_total[5m])) / on(job, instance, method) group_right rate(http_requests_total[5m])",
              "up * on(job, instance) group_left(version) build_info", "\(gauge) and \(floats) > 50",
              "\(gauge) unless on(instance) \(floats) > 60", "\(floats) or \(gauge)", "\(floats) > 50 or \(floats) < 0",
              "\(gauge) % 7", "\(gauge) ^ 0.5", "\(floats) atan2 10", "-\(gauge)", "\(gauge) == bool \(gauge)",
              "(\(gauge) + \(gauge)) / 2", "1 + 2 * 3", "2 ^ 3 ^ 2", "-2 ^ 2", "time()", "vector(time())",
              #"scalar(up{job="api",instance="api-0:8080"})"#, "scalar(up)", "\(floats) != \(floats)",
              "\(gauge) - ignoring(job) \(gauge)", "up + on() group_left vector(1)", "up == 1", "1 > bool 2",
              "\(gauge) * on(instance, job) \(floats)", "\(gauge) > on(instance, job) \(floats)",
              "sum(rate(http_requests_total[5m])) by (job) / ignoring(job) group_left sum(rate(http_requests_total[5m]))",
              "\(floats) >= 60 and on(job) up", "\(floats) < -10 unless \(floats) < -15", "NaN", "-Inf", "0x10 + 1"]
        for f in ["abs", "ceil", "floor", "round", "exp", "ln", "log2", "log10", "sqrt", "sgn", "sin", "cos", "tan",
                  "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "deg", "rad"] {
            q.append("\(f)(\(floats) / 100)")
        }
        q += ["ln(\(gauge))", "log2(\(gauge))", "sqrt(\(gauge))", "round(\(floats), 5)", "round(\(gauge), 0.001)",
              "clamp(\(floats), 0, 50)", "clamp_min(\(floats), 0)", "clamp_max(\(floats), 50)", "clamp(\(floats), 50, 0)",
              "timestamp(\(gauge))", "timestamp(rate(\(counter)[5m]))", "minute()", "hour()", "day_of_week()", "day_of_month()",
              "days_in_month()", "month()", "year()", "day_of_year()", "hour(timestamp(\(gauge)))", "minute(vector(1704070000))",
              "days_in_month(vector(1709251200))", "day_of_year(vector(1735603200))", "pi()", "exp(vector(710))"]
        q += [#"label_replace(up, "host", "$1", "instance", "(.*):.*")"#, #"label_replace(up, "x", "$1x", "job", "(.*)")"#,
              #"label_replace(up, "x", "${1}x", "job", "(.*)")"#, #"label_replace(up, "job", "", "job", ".*")"#,
              #"label_replace(up, "host", "$1", "instance", "nomatch")"#, #"label_replace(up, "port", "$2", "instance", "(.*):(.*)")"#,
              #"label_join(up, "id", "/", "job", "instance")"#, #"label_join(up, "job", "")"#,
              "sort(\(gauge))", "sort_desc(\(floats))", "sort(rate(http_requests_total[5m]))"]
        for quantile in ["0", "0.5", "0.9", "0.99", "1", "-1", "2"] {
            q.append("histogram_quantile(\(quantile), rate(\(buckets)[5m]))")
        }
        q += ["histogram_quantile(0.9, sum by (le) (rate(\(buckets)[5m])))",
              "histogram_quantile(0.9, sum by (job, le) (rate(\(buckets)[5m])))", "histogram_quantile(0.5, \(buckets))",
              #"histogram_quantile(0.5, \#(buckets){le!="+Inf"})"#]
        q += ["max_over_time(rate(\(counter)[5m])[30m:1m])", "avg_over_time(\(gauge)[10m:])", "rate(\(counter)[5m:30s])",
              "min_over_time(sum(\(gauge))[20m:2m] offset 10m)", "deriv(\(gauge)[10m:1m])", "\(gauge)[5m:1m]",
              "sum_over_time(up[1h:5m])", "max_over_time(deriv(\(gauge)[5m])[30m:])"]
        q += ["\(gauge) offset 10m", "rate(\(counter)[5m] offset 30m)", "\(gauge) @ 1704070000", "rate(\(counter)[5m] @ 1704072000)",
              "\(gauge) offset -5m", "sum(\(gauge) @ end())", "\(gauge) @ start()", "max_over_time(\(gauge)[10m] @ 1704071000 offset 5m)",
              "\(gauge)[5m]", "\(counter)[1m] offset 1m"]
        q += ["absent(nonexistent)", #"absent(nonexistent{job="x", instance="y"})"#, "absent(\(gauge))", #"absent(up{job="api"} == 2)"#,
              #"absent(nonexistent{job="x", job="y"})"#, #"absent(nonexistent{job="a", job!="b"})"#,
              #"absent(nonexistent{job!="b", job="a"})"#, #"absent((nonexistent{job="a"}))"#,
              "predict_linear(\(gauge)[30m] @ 1704072000, 600)", "topk(NaN, \(gauge))", "topk(1e20, \(gauge))",
              "bottomk(-1e300, \(gauge))"]
        // Errors both must report.
        q += [#"{__name__=~"edge_.*"} * 1"#, #"rate({__name__=~"edge_.*"}[5m])"#, "edge_a + on() group_left edge_b",
              #"up * on(job) build_info"#]
        return q
    }

    /// Where tally deliberately answers otherwise (docs/promql.md, "Where tally
    /// differs"): range queries of `predict_linear` over a selector with `@`.
    /// Prometheus 2.42's step loop reads such a selector at the step times
    /// over data loaded only around the `@` time, and answers for a few early
    /// steps only; its instant queries, which tally matches, evaluate the
    /// window at the `@` time and regress around the step's time, and tally
    /// does that at every step of a range query too.
    static let rangeDifferences: Set<String> = ["predict_linear(\(gauge)[30m] @ 1704072000, 600)"]

    /// Instant query times: after the restart, inside web-1's gap, between
    /// samples, after the last sample (within and beyond the lookback).
    static let instantTimes: [Int64] = [t0 + 75 * 60_000, t0 + 110 * 60_000, t0 + 150 * 60_000 + 7_500, end + 120_000, end + 600_000]
    static let ranges: [(start: Int64, end: Int64, step: Int64)] = [(t0 + 20 * 60_000, end + 300_000, 60_000), (t0 + 40 * 60_000, t0 + 160 * 60_000, 47_000)]

    @Test func tallyAnswersAsPrometheusDoes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/data.om"
        try DifferentialData.write(to: file)
        let prometheus = try await PrometheusServer.loaded(from: file)
        try await prometheus.waitReady()

        var options = StorageOptions()
        options.blockDurationMillis = 2 * 3_600_000
        _ = try SampleImport.run(file: file, directory: directory.path + "/tally", options: options, format: .openMetrics, now: DifferentialTests.t0)
        let db = try TSDB(directory: directory.path + "/tally", options: options)
        let engine = Engine(querier: db)

        var compared = 0
        var withData = 0
        var mismatches: [String] = []
        let queries = DifferentialTests.queries
        #expect(queries.count >= 300)
        for query in queries {
            for time in DifferentialTests.instantTimes {
                let theirs = try await prometheusAnswer(prometheus, "/api/v1/query?query=\(urlEncoded(query))&time=\(seconds(time))")
                let ours = tallyAnswer { () throws(PromQLError) in try engine.instant(try Parser.parse(query), at: time) }
                compared += 1
                if hasData(theirs) { withData += 1 }
                if let problem = difference(ours, theirs, ordered: Evaluator.keepsOrder((try? Parser.parse(query)) ?? .number(0))) {
                    mismatches.append("\(query) @ \(seconds(time)): \(problem)")
                }
            }
            for range in DifferentialTests.ranges where !DifferentialTests.rangeDifferences.contains(query) {
                let path = "/api/v1/query_range?query=\(urlEncoded(query))&start=\(seconds(range.start))&end=\(seconds(range.end))&step=\(seconds(range.step))"
                let theirs = try await prometheusAnswer(prometheus, path)
                let ours = tallyAnswer { () throws(PromQLError) in
                    let expr = try Parser.parse(query)
                    guard expr.type == .scalar || expr.type == .vector else {
                        throw PromQLError(.parse, "invalid expression type for range query", at: 0, in: query)
                    }
                    return try engine.range(expr, start: range.start, end: range.end, step: range.step)
                }
                compared += 1
                if hasData(theirs) { withData += 1 }
                if let problem = difference(ours, theirs, ordered: false) {
                    mismatches.append("\(query) [\(seconds(range.start))..\(seconds(range.end)) step \(seconds(range.step))]: \(problem)")
                }
            }
        }
        // The comparison means something only if Prometheus has the data: most answers hold series.
        #expect(withData * 10 >= compared * 7, "only \(withData) of \(compared) Prometheus answers hold data")
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(compared) answers differ:\n\(mismatches.prefix(60).joined(separator: "\n"))")
    }

    // MARK: Answers

    enum Answer {
        case scalar(Double)
        case string(String)
        case vector([(Labels, Double)])
        case matrix([(Labels, [(Int64, Double)])])
        case error(String)
    }

    private func hasData(_ answer: Answer) -> Bool {
        switch answer {
        case .scalar, .string: true
        case .vector(let v): !v.isEmpty
        case .matrix(let m): !m.isEmpty
        case .error: false
        }
    }

    private func seconds(_ millis: Int64) -> String {
        millis % 1000 == 0 ? "\(millis / 1000)" : "\(Double(millis) / 1000)"
    }

    private func tallyAnswer(_ body: () throws(PromQLError) -> QueryResult) -> Answer {
        do {
            switch try body() {
            case .scalar(_, let v): return .scalar(v)
            case .string(_, let s): return .string(s)
            case .vector(_, let samples): return .vector(samples.map { ($0.labels, $0.value) })
            case .matrix(let series): return .matrix(series.map { ($0.labels, $0.points.map { ($0.timestamp, $0.value) }) })
            }
        } catch {
            return .error(error.description)
        }
    }

    private func prometheusAnswer(_ server: PrometheusServer, _ path: String) async throws -> Answer {
        let body: String
        do {
            (_, body) = try await server.get(path)
        } catch {
            return .error("request failed: \(error) for \(path)")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return .error("not JSON: \(body)") }
        guard object["status"] as? String == "success", let data = object["data"] as? [String: Any] else {
            return .error((object["error"] as? String) ?? body)
        }
        let result = data["result"]
        switch data["resultType"] as? String {
        case "scalar":
            let pair = result as? [Any] ?? []
            return .scalar(number(pair.count > 1 ? pair[1] : "NaN"))
        case "string":
            let pair = result as? [Any] ?? []
            return .string(pair.count > 1 ? (pair[1] as? String ?? "") : "")
        case "vector":
            return .vector((result as? [[String: Any]] ?? []).map { item in
                (labels(item["metric"]), number((item["value"] as? [Any])?[1] ?? "NaN"))
            })
        default:
            return .matrix((result as? [[String: Any]] ?? []).map { item in
                (labels(item["metric"]), (item["values"] as? [[Any]] ?? []).map { pair in
                    (Int64(((pair[0] as? NSNumber)?.doubleValue ?? 0) * 1000 + 0.5), number(pair[1]))
                })
            })
        }
    }

    private func labels(_ any: Any?) -> Labels {
        Labels((any as? [String: String] ?? [:]).map { Label($0.key, $0.value) })
    }

    private func number(_ any: Any) -> Double {
        switch (any as? String) ?? "" {
        case "NaN": return .nan
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case let text: return Double(text) ?? .nan
        }
    }

    private func same(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a == b { return true }
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) || abs(a - b) < 1e-12
    }

    private func difference(_ ours: Answer, _ theirs: Answer, ordered: Bool) -> String? {
        switch (ours, theirs) {
        case (.error, .error):
            return nil
        case (.error(let e), _):
            return "tally failed (\(e)), Prometheus answered"
        case (_, .error(let e)):
            return "Prometheus failed (\(e)), tally answered"
        case (.scalar(let a), .scalar(let b)):
            return same(a, b) ? nil : "scalar \(a) vs \(b)"
        case (.string(let a), .string(let b)):
            return a == b ? nil : "string \(a) vs \(b)"
        case (.vector(let a), .vector(let b)):
            // Ordered answers (sort, topk) must list the same values in the same order; Prometheus
            // leaves the order of equal values unspecified.
            if ordered && (a.count != b.count || zip(a, b).contains { !same($0.1, $1.1) }) {
                return "order \(a.map(\.1)) vs \(b.map(\.1))"
            }
            let mine = Dictionary(a, uniquingKeysWith: { x, _ in x })
            let other = Dictionary(b, uniquingKeysWith: { x, _ in x })
            if Set(mine.keys) != Set(other.keys) {
                return "series: tally only \(Set(mine.keys).subtracting(other.keys).prefix(3)), Prometheus only \(Set(other.keys).subtracting(mine.keys).prefix(3))"
            }
            for (labels, value) in mine where !same(value, other[labels]!) {
                return "\(labels): \(value) vs \(other[labels]!)"
            }
            return nil
        case (.matrix(let a), .matrix(let b)):
            let mine = Dictionary(a, uniquingKeysWith: { x, _ in x })
            let other = Dictionary(b, uniquingKeysWith: { x, _ in x })
            if Set(mine.keys) != Set(other.keys) {
                return "series: tally only \(Set(mine.keys).subtracting(other.keys).prefix(3)), Prometheus only \(Set(other.keys).subtracting(mine.keys).prefix(3))"
            }
            for (labels, points) in mine {
                let theirs = other[labels]!
                if points.map(\.0) != theirs.map(\.0) {
                    return "\(labels): \(points.count) points vs \(theirs.count), first times \(points.first.map { "\($0.0)" } ?? "-") vs \(theirs.first.map { "\($0.0)" } ?? "-")"
                }
                for (p, q) in zip(points, theirs) where !same(p.1, q.1) {
                    return "\(labels) at \(p.0): \(p.1) vs \(q.1)"
                }
            }
            return nil
        default:
            return "shape \(ours) vs \(theirs)"
        }
    }
}
