import Foundation
import TallyTestKit

/// The data both Prometheus and tally load for the differential tests: an
/// OpenMetrics file of three hours at a 15 s scrape interval (each instance
/// at its own phase), with the shapes that make PromQL hard: counters that
/// reset, a series with a gap, a series that stops, classic histograms (one
/// with a non-monotonic bucket), gauges with NaN and infinities, negative
/// values, constants, and two metrics whose label sets collide once their
/// names are dropped.
enum DifferentialData {
    static let start: Int64 = 1_704_067_200_000
    static let duration: Int64 = 3 * 3_600_000
    static let interval: Int64 = 15_000

    struct Family {
        var name: String
        var type: String
        var lines: [String] = []
    }

    static func write(to path: String) throws {
        var random = SplitMix64(seed: 42)
        var families: [String: Family] = [:]
        var order: [String] = []
        func family(_ name: String, _ type: String) -> String {
            if families[name] == nil {
                families[name] = Family(name: name, type: type)
                order.append(name)
            }
            return name
        }
        func emit(_ familyName: String, _ metric: String, _ labels: [(String, String)], _ value: Double, _ time: Int64) {
            let text = labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",")
            let seconds = "\(time / 1000).\(String(format: "%03d", time % 1000))"
            families[familyName]!.lines.append("\(metric){\(text)} \(format(value)) \(seconds)")
        }

        let requests = family("http_requests", "counter")
        let latency = family("request_duration_seconds", "histogram")
        let memory = family("memory_bytes", "gauge")
        let temperature = family("temperature_celsius", "gauge")
        let up = family("up", "gauge")
        let info = family("build_info", "gauge")
        let edgeA = family("edge_a", "gauge")
        let edgeB = family("edge_b", "gauge")
        let bounds = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]

        for job in ["api", "web"] {
            for instance in 0..<3 {
                let base = [("job", job), ("instance", "\(job)-\(instance):8080")]
                let phase = Int64(instance * 1_300 + (job == "web" ? 700 : 0))
                var counters: [String: Double] = [:]
                var buckets = [Double](repeating: 0, count: bounds.count)
                var sum = 0.0
                var mem = Double(200_000_000 + instance * 10_000_000)
                var t = start + phase
                var step = 0
                while t < start + duration {
                    let minute = (t - start) / 60_000
                    // web-1 is down from minute 100 to 120: a gap in every series.
                    let gap = job == "web" && instance == 1 && minute >= 100 && minute < 120
                    // api-2 restarts at minute 70: its counters start again from zero.
                    let restart = job == "api" && instance == 2 && step == 280
                    if restart {
                        counters = [:]
                        buckets = [Double](repeating: 0, count: bounds.count)
                        sum = 0
                    }
                    if !gap {
                        for method in ["GET", "POST"] {
                            for status in ["200", "500"] {
                                let key = method + status
                                let rate = status == "200" ? 40 : 2
                                counters[key, default: 0] += Double(random.below(rate * 2 + 1))
                                emit(requests, "http_requests_total", base + [("method", method), ("status", status)], counters[key]!, t)
                            }
                        }
                        for _ in 0..<random.below(30) {
                            let observed = random.unit() * random.unit() * 3
                            sum += observed
                            for (i, bound) in bounds.enumerated() where bound == "+Inf" || observed <= Double(bound)! {
                                buckets[i] += 1
                            }
                        }
                        for (i, bound) in bounds.enumerated() {
                            var count = buckets[i]
                            // One bucket of web-0 is a little off: histogram_quantile makes it monotonic.
                            if job == "web" && instance == 0 && bound == "0.25" { count = max(0, count - 3) }
                            emit(latency, "request_duration_seconds_bucket", base + [("le", bound)], count, t)
                        }
                        emit(latency, "request_duration_seconds_sum", base, sum, t)
                        emit(latency, "request_duration_seconds_count", base, buckets[bounds.count - 1], t)
                        mem += Double(random.below(2_000_001)) - 1_000_000
                        emit(memory, "memory_bytes", base, mem, t)
                        var celsius = 40 + random.unit() * 30 - (instance == 0 ? 60 : 0)
                        if step % 97 == 13 { celsius = .nan }
                        if job == "api" && instance == 1 && step == 300 { celsius = .infinity }
                        if job == "api" && instance == 1 && step == 301 { celsius = -.infinity }
                        emit(temperature, "temperature_celsius", base, celsius, t)
                        emit(up, "up", base, 1, t)
                        emit(info, "build_info", base + [("version", instance == 2 ? "1.1" : "1.0")], 1, t)
                        // edge_b stops after minute 150.
                        if instance == 0 && job == "api" {
                            emit(edgeA, "edge_a", [("x", "1")], Double(step), t)
                            if minute < 150 { emit(edgeB, "edge_b", [("x", "1")], Double(step) * 2, t) }
                        }
                    }
                    t += interval
                    step += 1
                }
            }
        }
        var text = ""
        for name in order {
            let f = families[name]!
            text += "# TYPE \(f.name) \(f.type)\n"
            // OpenMetrics wants each series' samples in time order; they are, per series.
            let grouped = Dictionary(grouping: f.lines) { line in String(line[..<line.lastIndex(of: " ")!].dropLast(0)).split(separator: " ")[0] }
            for key in grouped.keys.sorted() {
                text += grouped[key]!.joined(separator: "\n") + "\n"
            }
        }
        text += "# EOF\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
