import Foundation
import TallyTestKit
import Testing
@testable import PromQL

/// Every query here goes to a real Prometheus's `/api/v1/format_query` and
/// to tally's parser: where Prometheus formats it, tally must print the very
/// same text (same tree, same normalisation); where Prometheus refuses it,
/// tally must refuse it too.
@Suite("PromQL parser against Prometheus's format_query")
struct FormatAgainstPrometheusTests {
    static let valid = [
        "up", #"up{job="api"}"#, #"up{b="x",a="y"}"#, #"{__name__="up"}"#, #"{__name__=~"up|down"}"#, "x{}",
        #"x{a="b",}"#, #"x{a!~"x",b!="y",c="z"}"#, #"x{a=~"b\\d"}"#, #"x{a="with \"quotes\" and \\"}"#, "x{a='single'}",
        "x{a=`raw\\n`}", #"x{on="a", by="b", offset="c"}"#,
        "x[5m]", "x[90s]", "x[1h30m]", "x[365d]", "x[100ms]", "x[2w]", "x offset 5m", "x offset -5m", "x offset 1h30m",
        "x @ 100", "x @ -1.5", "x @ start()", "x @ end()", "x offset 5m @ 100", "x @ 100 offset 5m", "x[5m] offset 1m",
        "x[5m] @ 100", "rate(x[5m:])", "x[1h:5m]", "x[90s:1m] offset -1h", "sum(x)[1h:] @ end()",
        "rate(x[5m])[30m:1m]", "(x)[5m:]",
        "1", "-1", "+1", "1.5", "0x1f", "1e21", "1e-7", "0.0001", "Inf", "-Inf", "NaN", "+Inf", ".5", "5.",
        #""a\nb""#, "'single'", "`raw`",
        "1 + 2 * 3", "(1 + 2) * 3", "2 ^ 3 ^ 2", "-1 ^ 2", "-x ^ 2", "- x", "- - x", "-(-1)", "-(x)",
        "a - b - c", "a / b % c", "a + b * c - d / e", "a atan2 b", "x > bool 1", "1 > bool 2", "a == b", "a != b",
        "a >= b", "a <= b", "a < b", "a > b", "a and b", "a or b", "a unless b", "a or b unless c", "a and b or c",
        "a and on(b) c", "a unless ignoring(b, c) d", "a * on(x) group_left(y) b", "a * on(x) group_right(y) b",
        "a * on(x) group_left b", "a * ignoring(x) group_left(y, z) b", "a + ignoring() group_left b", "a + on() b",
        "a > bool on(x) b", "a - on(x) group_left() b",
        "sum(x)", "sum(x) by (job)", "sum by (job) (x)", "sum without (a, b) (x)", "sum by () (x)", "sum without () (x)",
        "SUM(x)", "Sum by (a) (x)", "avg(x)", "min(x)", "max(x)", "count(x)", "group(x)", "stddev(x)", "stdvar(x)",
        "topk(5, x)", "bottomk by (a) (3, x)", "quantile(0.9, x)", "quantile(0.5, x) without (a, b)",
        #"count_values("v", x)"#, "sum by (a,) (x)", "sum(rate(x[5m])) by (job)",
        "rate(x[5m])", "irate(x[1m])", "increase(x[1h])", "delta(x[5m])", "idelta(x[5m])", "deriv(x[5m])",
        "predict_linear(x[1h], 3600)", "resets(x[1h])", "changes(x[1h])", "avg_over_time(x[5m])", "min_over_time(x[5m])",
        "max_over_time(x[5m])", "sum_over_time(x[5m])", "count_over_time(x[5m])", "last_over_time(x[5m])",
        "quantile_over_time(0.9, x[5m])", "stddev_over_time(x[5m])", "stdvar_over_time(x[5m])", "present_over_time(x[5m])",
        "absent(x)", "absent_over_time(x[5m])", "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
        "abs(-x)", "ceil(x)", "floor(x)", "round(x)", "round(x, 0.5)", "clamp(x, 0, 1)", "clamp_min(x, 0)", "clamp_max(x, 1)",
        "exp(x)", "ln(x)", "log2(x)", "log10(x)", "sqrt(x)", "sgn(x)", "time()", "timestamp(x)", "vector(1)", "scalar(x)",
        #"label_replace(x, "a", "$1", "b", "(.*)")"#, #"label_join(x, "a", ",", "b", "c")"#, #"label_join(x, "a", ",")"#,
        "sort(x)", "sort_desc(x)", "minute()", "hour(x)", "day_of_week()", "day_of_month(x)", "days_in_month()",
        "month(x)", "year()", "day_of_year(x)", "pi()", "sin(x)", "holt_winters(x[1h], 0.5, 0.5)",
        "rate(x[5m] @ end())", "sum(rate(x[5m] offset 1h))", "x + on(a) group_left sum by (a) (y)",
        "1 + -x", "x * -1", "x^-1", "x == bool -1", "sum(x) / ignoring(le) group_left count(x)",
        "# comment\nx", "x # trailing comment", "\n  sum(\n x\n )\n",
        // Keywords are metric names where an expression starts.
        "sum", "by", "offset", "without", "start", "end", "inf_x",
        "sum + by", "x offset 5m + offset", "sum{a=\"b\"}", "rate",
        // Longer than 100 characters: split over lines.
        #"sum by (job, instance) (rate(http_requests_total{job="api", status=~"5.."}[5m])) / sum by (job, instance) (rate(http_requests_total{job="api"}[5m]))"#,
        #"histogram_quantile(0.99, sum by (le, job, instance, handler) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))"#,
        #"topk(10, sum without (instance, pod, container, namespace) (rate(container_cpu_usage_seconds_total{image!=""}[5m])))"#,
        #"-sum by (job, instance) (rate(http_requests_total{job="api", status=~"5..", handler!~"/health.*"}[5m]))"#,
        #"(sum by (job, instance) (rate(http_requests_total{job="api", status=~"5..", handler!~"/health.*"}[5m])))"#,
        #"max_over_time(sum by (job, instance) (rate(http_requests_total{job="api", status=~"5..", handler!~"/h"}[5m]))[1h:1m])"#,
        #"a_very_long_metric_name_for_testing_purposes_one{label="value"} + on (label) group_left (other) a_very_long_metric_name_for_testing_purposes_two"#,
        #"label_replace(rate(http_requests_total{job="api", status=~"5.."}[5m]), "code", "$1", "status", "(.)..") > bool 0.5"#,
        #"sum by (job) (rate(http_requests_total{job="api"}[5m])) / sum by (job) (rate(http_requests_total[5m])) * 100 > 5"#,
    ]

    static let invalid = [
        "", "{}", #"{a=""}"#, "up{job}", "up{job=api}", #"up{job="a" env="b"}"#, #"up{job="a"#, "up{", #"up{x=~"("}"#,
        #"up{__name__="x"}"#, "up $", "rate(x)", "foo(x)", "rate(x[5m], 1)", "round()", "1 > 2", "x + bool y",
        "1 and x", "x and on(a) group_left y", "x[5m] + 1", "sum(x[5m])", "topk(x)", "rate(x[5m])[5m]", "x offset 5m[5m]",
        "sum(x) offset 5m", "x offset 1m offset 2m", "x[5m][1h:]", "x[5]", "(x", "x y", "-x[5m]",
        "x * on(a) group_left(a) y", "x offset", "x @", "x @ foo", "sum(x) by", "x[5m", "x{a=~1}",
        "1 +", "* 1", "x and 1", "count_values(1, x)", "quantile(\"a\", x)", "x{1a=\"b\"}", "label_join(x, \"a\")",
        "hour(x, y)", "x[1h:1m:1m]", "(1 + 2", "x) ", "sum(x, y)", "x @ 1 @ 2",
        "bool", "on", "ignoring", "group_left", "group_right", "x + on", "0x", "1e", "x[5m:0]",
    ]

    @Test func everyValidQueryPrintsAsPrometheusFormatsIt() async throws {
        let prometheus = try PrometheusServer()
        try await prometheus.waitReady()
        var mismatches: [String] = []
        for query in FormatAgainstPrometheusTests.valid {
            let (status, body) = try await prometheus.get("/api/v1/format_query?query=" + urlEncoded(query))
            guard status == 200, let expected = formatted(body) else {
                mismatches.append("\(query): Prometheus refused it: \(body)")
                continue
            }
            do {
                let ours = try Parser.parse(query).pretty
                if ours != expected { mismatches.append("\(query): tally \(ours) | Prometheus \(expected)") }
            } catch {
                mismatches.append("\(query): tally refused it: \(error)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(FormatAgainstPrometheusTests.valid.count):\n\(mismatches.joined(separator: "\n"))")
    }

    @Test func everyInvalidQueryIsRefusedByBoth() async throws {
        let prometheus = try PrometheusServer()
        try await prometheus.waitReady()
        var mismatches: [String] = []
        for query in FormatAgainstPrometheusTests.invalid {
            let (status, body) = try await prometheus.get("/api/v1/format_query?query=" + urlEncoded(query))
            if status == 200 { mismatches.append("\(query): Prometheus accepts it: \(body)") }
            if let expr = try? Parser.parse(query) { mismatches.append("\(query): tally accepts it as \(expr)") }
        }
        #expect(mismatches.isEmpty, "\n\(mismatches.joined(separator: "\n"))")
    }

    /// The `data` string of a format_query answer.
    private func formatted(_ body: String) -> String? {
        guard let data = body.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["data"] as? String
    }
}
