import ProtobufWire
import Testing

@testable import Aggregation

/// An agent's exported interval, taken in by a central tally's shards, gives
/// the central what it would have flushed had it received the lines itself:
/// the same quantiles, counts, sums, counter totals and distinct counts,
/// over the union of several agents' lines.
@Suite("Aggregates forwarded from agents")
struct AggregateForwardingTests {
    /// Each agent's export of one interval.
    static func export(_ agent: Harness) -> [UInt8] {
        var encoder = ProtobufEncoder()
        for shard in agent.shards { shard.exportAggregates(into: &encoder) }
        return encoder.bytes
    }

    static func importing(_ request: [UInt8], into central: Harness, config: AggregationConfig = AggregationConfig()) throws -> Int {
        let count = try request.withUnsafeBytes { raw throws(AggregateWire.Refusal) in
            try central.router.route(aggregateRequest: raw, relativeAccuracy: config.sketchRelativeAccuracy, hllPrecision: config.hllPrecision)
        }
        central.router.flush()
        central.drain()
        return count
    }

    @Test func theCentralFlushesWhatItWouldHaveFromAllTheLines() throws {
        let first = Harness(exportsAggregates: true)
        let second = Harness(exportsAggregates: true)
        let direct = Harness()
        let central = Harness()
        var linesA: [String] = []
        var linesB: [String] = []
        for k in 0..<500 {
            linesA.append("api.latency:\(Double(k % 97) + 0.5)|ms|#route:/a,env:prod")
            linesB.append("api.latency:\(900 + Double(k % 89))|ms|#env:prod,route:/a")
            linesA.append("api.size:\(k * 3)|h")
            linesB.append("api.size:-\(k)|h")
        }
        linesA += ["api.hits:2|c|@0.5", "api.hits:1|c", "api.queue:7|g", "api.users:alice|s", "api.users:bob|s"]
        linesB += ["api.hits:5|c", "api.queue:+3|g", "api.users:bob|s", "api.users:carol|s"]
        // An estimated set (past the exact limit) travels as registers and merges as a union.
        linesA += (0..<12_000).map { "api.sessions:s\($0)|s" }
        linesB += (6_000..<18_000).map { "api.sessions:s\($0)|s" }
        first.send(linesA)
        second.send(linesB)
        direct.send(linesA)
        direct.send(linesB)
        // As the agent's service does it: export, then flush the interval.
        #expect(try Self.importing(Self.export(first), into: central) > 0)
        #expect(try Self.importing(Self.export(second), into: central) > 0)
        _ = first.flush(at: 10_000)
        _ = second.flush(at: 10_000)
        let merged = central.flush(at: 10_000)
        let expected = direct.flush(at: 10_000)
        #expect(Set(merged.keys) == Set(expected.keys))
        for (series, value) in expected where !series.contains("api_queue") && !series.contains("api_sessions") {
            #expect(merged[series] == value, "\(series): \(merged[series] ?? .nan) vs \(value)")
        }
        // A gauge is the last agent's value (b set 7 + 3 locally as 3: its own gauge started at 0).
        #expect(merged.first { $0.key.contains("api_queue") }?.value == 3)
        let sessions = try #require(merged.first { $0.key.contains("api_sessions") }?.value)
        #expect(abs(sessions - 18_000) < 18_000 * 0.03, "distinct sessions of the union: \(sessions)")
        // The next interval carries only what is new: counters by their increment.
        first.send(["api.hits:4|c"])
        _ = try Self.importing(Self.export(first), into: central)
        let total: Double = 2 / 0.5 + 1 + 5 + 4
        #expect(central.flush(at: 20_000).first { $0.key.contains("api_hits_total") }?.value == total)
    }

    @Test func requestsBuiltWithOtherSettingsOrDamagedAreRefusedWhole() throws {
        let agent = Harness(exportsAggregates: true)
        agent.send(["api.latency:12|ms", "api.hits:1|c"])
        let request = Self.export(agent)
        let central = Harness()
        var other = AggregationConfig()
        other.sketchRelativeAccuracy = 0.02
        #expect { try Self.importing(request, into: central, config: other) } throws: { "\($0)".contains("relative accuracy") }
        #expect { try Self.importing(Array(request.dropLast(3)), into: central) } throws: { "\($0)".contains("not an AggregateRequest") }
        #expect { try Self.importing([0x0A, 0x02, 0x18, 0x09], into: central) } throws: { "\($0)".contains("name") || "\($0)".contains("kind") }
        #expect(central.flush(at: 10_000).isEmpty, "nothing of a refused request is applied")
    }
}
