@testable import Forwarding
import Testing
import TelemetryModel

/// write_relabel_configs with Prometheus's semantics, action by action.
@Suite("write_relabel_configs")
struct RelabelRuleTests {
    let series = Labels(name: "http_requests_total", ["job": "api", "instance": "10.0.0.1:9100", "code": "500", "env": "prod"])

    func rule(_ action: RelabelRule.Action, regex: String = "(.*)", source: [String] = [], target: String = "",
              replacement: String = "$1", modulus: UInt64 = 0) throws -> RelabelRule {
        var rule = try RelabelRule(regex: regex)
        rule.action = action
        rule.sourceLabels = source
        rule.targetLabel = target
        rule.replacement = replacement
        rule.modulus = modulus
        return rule
    }

    @Test func keepAndDropMatchTheJoinedSourceValuesWholly() throws {
        #expect(try rule(.keep, regex: "http_.*", source: ["__name__"]).apply(series) == series)
        #expect(try rule(.keep, regex: "http", source: ["__name__"]).apply(series) == nil, "anchored at both ends")
        #expect(try rule(.drop, regex: "api;5..", source: ["job", "code"]).apply(series) == nil)
        #expect(try rule(.drop, regex: "api;2..", source: ["job", "code"]).apply(series) == series)
        // A label a series lacks joins as the empty string.
        #expect(try rule(.keep, regex: ";api", source: ["missing", "job"]).apply(series) == series)
    }

    @Test func replaceWritesTheExpandedReplacement() throws {
        let host = try rule(.replace, regex: "([^:]+):.*", source: ["instance"], target: "host")
        #expect(try #require(host.apply(series))["host"] == "10.0.0.1")
        let constant = try rule(.replace, target: "region", replacement: "eu-1")
        #expect(try #require(constant.apply(series))["region"] == "eu-1")
        // No match: unchanged. An empty result removes the label.
        #expect(try rule(.replace, regex: "x(.*)", source: ["job"], target: "job").apply(series) == series)
        #expect(try #require(try rule(.replace, regex: ".*", source: ["job"], target: "env", replacement: "").apply(series))["env"] == nil)
    }

    @Test func labeldropLabelkeepAndLabelmapWorkOnNames() throws {
        let dropped = try #require(try rule(.labeldrop, regex: "env|code").apply(series))
        #expect(dropped.map(\.name) == ["__name__", "instance", "job"])
        let kept = try #require(try rule(.labelkeep, regex: "__name__|job").apply(series))
        #expect(kept.map(\.name) == ["__name__", "job"])
        let mapped = try #require(try rule(.labelmap, regex: "(job|env)", replacement: "orig_$1").apply(series))
        #expect(mapped["orig_job"] == "api" && mapped["orig_env"] == "prod" && mapped["job"] == "api")
    }

    @Test func hashmodAndCaseActions() throws {
        // Prometheus: the last 8 bytes of MD5(value), big-endian, modulo the modulus (values from Python's hashlib).
        #expect(try #require(try rule(.hashmod, source: ["instance"], target: "shard", modulus: 8).apply(series))["shard"] == "5")
        #expect(try #require(try rule(.hashmod, source: ["instance"], target: "shard", modulus: 1000).apply(series))["shard"] == "645")
        #expect(RelabelRule.md5Suffix("node-1:9100") % 1000 == 805 && RelabelRule.md5Suffix("a") % 1000 == 697)
        #expect(try rule(.hashmod, source: ["instance"], target: "shard", modulus: 8).apply(series) == rule(.hashmod, source: ["instance"], target: "shard", modulus: 8).apply(series))
        #expect(try #require(try rule(.uppercase, source: ["env"], target: "env").apply(series))["env"] == "PROD")
        #expect(try #require(try rule(.lowercase, source: ["code"], target: "c").apply(series))["c"] == "500")
    }

    @Test func rulesApplyInOrderAndStopAtADrop() throws {
        let rules = [try rule(.replace, regex: "(.*)", source: ["job"], target: "service"), try rule(.drop, regex: "api", source: ["service"])]
        #expect(RelabelRule.apply(rules, to: series) == nil)
        #expect(RelabelRule.apply([rules[0]], to: series)?["service"] == "api")
        #expect(throws: InvalidRegexError.self) { try RelabelRule(regex: "([") }
    }
}
