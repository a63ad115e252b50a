import Foundation
import Testing
import DurableFiles
import TallyTestKit
import TelemetryModel
@testable import Aggregation
@testable import SketchStorage

@Suite("Sketch archive")
struct SketchArchiveTests {
    let mapping = SketchMapping(relativeAccuracy: 0.01)
    /// 2026-11-28T00:00:00Z in milliseconds.
    let day: Int64 = 1_795_824_000_000
    let hour = SketchArchive.hourMillis

    func rollup(_ name: String, _ values: [Double], kind: MetricKind = .timer) -> SketchRollup {
        var rollup = SketchRollup(name: name, kind: kind)
        for value in values { rollup.sketch.add(value, mapping: mapping) }
        return rollup
    }

    func files(_ dir: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    /// A day of 10 s intervals: mostly fast, with one slow minute. The day's p99 from the merged
    /// sketches is the p99 of every value; the largest interval p99 (what a quantile of the
    /// interval series gives) is the slow minute's and says nothing of the day.
    @Test func aDaysP99IsThatOfAllItsValues() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archive = try SketchArchive(directory: dir.path, relativeAccuracy: 0.01, retentionMillis: 15 * 86_400_000)
        var all: [Double] = []
        var intervalP99s: [Double] = []
        for interval in 0..<8_640 {
            let slow = (4_000..<4_006).contains(interval)
            let values = (0..<20).map { Double(slow ? 2_000 + $0 : 10 + ($0 * 7 + interval) % 40) }
            all += values
            let r = rollup("api_latency_seconds", values)
            intervalP99s.append(r.quantile(0.99, mapping: mapping)!)
            archive.add([r], intervalEnd: day + Int64(interval + 1) * 10_000)
            if interval % 360 == 359 { archive.persist(now: day + Int64(interval + 1) * 10_000) }
        }
        archive.persist(now: day + 86_400_000 + 1)
        all.sort()
        let exact = all[Int((0.99 * Double(all.count - 1)).rounded(.down))] / 1000 // ms → s
        let p99 = try #require(try archive.quantiles(0.99, names: ["api_latency_seconds"], start: day, end: day + 86_400_000)["api_latency_seconds"])
        #expect(abs(p99 - exact) <= exact * 0.01 + 1e-12, "day p99 \(p99) vs exact \(exact)")
        #expect((intervalP99s.max() ?? 0) > 2, "the slowest interval's p99 is that of the slow minute")
        // The day's hours are one file each once they are over.
        #expect(try files(dir) == (0..<24).map { "\(day + Int64($0) * hour).hour.sk" }.sorted())
        // Another name, or a range without values, gives nothing.
        #expect(try archive.quantiles(0.99, names: ["db_latency_seconds"], start: day, end: day + 86_400_000).isEmpty)
        #expect(try archive.quantiles(0.99, names: ["api_latency_seconds"], start: day - 86_400_000, end: day).isEmpty)
    }

    @Test func whatIsNotYetWrittenIsReadFromMemoryAndPartsSurviveARestart() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let archive = try SketchArchive(directory: dir.path, relativeAccuracy: 0.01, retentionMillis: 15 * 86_400_000)
            archive.add([rollup("job_time_seconds", [100, 200])], intervalEnd: day + 10_000)
            #expect(try archive.quantiles(1, names: ["job_time_seconds"], start: day, end: day + hour) == ["job_time_seconds": 0.2])
            archive.persist(now: day + 20_000)
            archive.add([rollup("job_time_seconds", [300])], intervalEnd: day + 30_000)
            archive.persist(now: day + 40_000)
            #expect(try files(dir) == ["\(day).1.part.sk", "\(day).2.part.sk"])
        }
        let reopened = try SketchArchive(directory: dir.path, relativeAccuracy: 0.01, retentionMillis: 15 * 86_400_000)
        #expect(try reopened.quantiles(1, names: ["job_time_seconds"], start: day, end: day + hour) == ["job_time_seconds": 0.3])
        // New parts do not reuse the numbers of those on disk; the ended hour becomes one file.
        reopened.add([rollup("job_time_seconds", [50])], intervalEnd: day + 50_000)
        reopened.persist(now: day + hour)
        #expect(try files(dir) == ["\(day).hour.sk"])
        #expect(try reopened.quantiles(0, names: ["job_time_seconds"], start: day, end: day + hour) == ["job_time_seconds": 0.05])
    }

    /// Many families, each handed over at every interval: each is merged
    /// into one pending rollup of its own, in memory and in the part file.
    @Test func pendingRollupsAreMergedPerFamily() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archive = try SketchArchive(directory: dir.path, relativeAccuracy: 0.01, retentionMillis: 15 * 86_400_000)
        let names = (0..<1_000).map { "job_\($0)_seconds" }
        for interval in 1...3 {
            archive.add(names.enumerated().map { k, name in rollup(name, [Double(k + interval)]) }, intervalEnd: day + Int64(interval) * 10_000)
        }
        let some: Set<String> = ["job_0_seconds", "job_500_seconds", "job_999_seconds"]
        let expected = ["job_0_seconds": 0.003, "job_500_seconds": 0.503, "job_999_seconds": 1.002]
        func close(_ got: [String: Double]) -> Bool {
            got.count == expected.count && expected.allSatisfy { name, value in abs((got[name] ?? 0) - value) <= value * 0.01 }
        }
        #expect(close(try archive.quantiles(1, names: some, start: day, end: day + hour)))
        archive.persist(now: day + 40_000)
        let (_, written) = try SketchFile.read(path: dir.path + "/\(day).1.part.sk")
        #expect(written.count == 1_000)
        #expect(written.allSatisfy { $0.count == 3 })
        #expect(close(try archive.quantiles(1, names: some, start: day, end: day + hour)))
    }

    /// An archive keeping only the report's families takes nothing of the others.
    @Test func familiesOutsideTheSelectionAreNotKept() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archive = try SketchArchive(
            directory: dir.path, relativeAccuracy: 0.01, retentionMillis: 15 * 86_400_000,
            families: SketchFamilySelection(patterns: ["$service_latency_seconds"]))
        #expect(archive.keeps(family: "api_latency_seconds") && !archive.keeps(family: "job_seconds"))
        archive.add([rollup("api_latency_seconds", [5]), rollup("job_seconds", [7])], intervalEnd: day + 10_000)
        archive.persist(now: day + 20_000)
        let (_, written) = try SketchFile.read(path: dir.path + "/\(day).1.part.sk")
        #expect(written.map(\.name) == ["api_latency_seconds"])
        #expect(try archive.quantiles(1, names: ["job_seconds"], start: day, end: day + hour).isEmpty)
    }

    @Test func histogramsKeepTheirUnitAndOldHoursExpire() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archive = try SketchArchive(directory: dir.path, relativeAccuracy: 0.01, retentionMillis: 2 * hour)
        archive.add([rollup("resp_bytes", [512, 1_024], kind: .histogram)], intervalEnd: day + 10_000)
        archive.persist(now: day + hour)
        #expect(try archive.quantiles(1, names: ["resp_bytes"], start: day, end: day + hour) == ["resp_bytes": 1_024])
        archive.persist(now: day + 3 * hour)
        #expect(try files(dir).isEmpty)
    }

    @Test func aDamagedFileFailsTheQueryNamingIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archive = try SketchArchive(directory: dir.path, relativeAccuracy: 0.01, retentionMillis: 15 * 86_400_000)
        archive.add([rollup("api_latency_seconds", [1, 2, 3])], intervalEnd: day + 10_000)
        archive.persist(now: day + hour)
        let path = dir.path + "/\(day).hour.sk"
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[20] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect {
            try archive.quantiles(0.99, names: ["api_latency_seconds"], start: day, end: day + hour)
        } throws: { error in
            "\(error)".contains("\(day).hour.sk") && "\(error)".contains("checksum")
        }
    }
}
