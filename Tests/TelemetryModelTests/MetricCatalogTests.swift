import Testing
@testable import TelemetryModel

@Suite("Metric catalog")
struct MetricCatalogTests {
    /// Families come and go by the hundred thousand (ids in names): the
    /// arena of names is compacted as they go, and what is left reads back
    /// exactly, names of every length included.
    @Test func statsdFamiliesSurviveChurnAndCompaction() {
        var names = StatsDFamilyNames()
        var model: [Int: (String, MetricKind)] = [:]
        let kinds = MetricKind.allCases
        for i in 0..<120_000 {
            let name = "svc_\(i)_" + String(repeating: "x", count: i % 40) + "_é"
            let kind = kinds[i % kinds.count]
            names.insert(hash: name.hashValue, name: name, kind: kind)
            model[name.hashValue] = (name, kind)
            // Keep one family in ten.
            if i >= 10, (i - 10) % 10 != 0 {
                let gone = "svc_\(i - 10)_" + String(repeating: "x", count: (i - 10) % 40) + "_é"
                names.remove(hash: gone.hashValue)
                model[gone.hashValue] = nil
            }
        }
        #expect(names.count == model.count)
        var seen: [String: MetricKind] = [:]
        names.forEach { name, kind in seen[name] = kind }
        #expect(seen.count == model.count)
        for (name, kind) in model.values { #expect(seen[name] == kind, "\(name)") }
    }

    @Test func theFirstKindOfAHashStaysAndAForgottenFamilyCanReturn() {
        let catalog = MetricCatalog()
        catalog.record(family: "jobs_total", kind: .counter)
        catalog.record(family: "jobs_total", kind: .gauge)
        #expect(catalog.all["jobs_total"]?.type == "counter")
        catalog.forget(hash: "jobs_total".hashValue)
        #expect(catalog.all.isEmpty)
        catalog.record(family: "jobs_total", kind: .gauge)
        #expect(catalog.all["jobs_total"]?.type == "gauge")
        // What a sender declared wins over the StatsD kind.
        catalog.record(family: "jobs_total", type: "counter", help: "declared")
        #expect(catalog.all["jobs_total"]?.help == "declared")
    }
}
