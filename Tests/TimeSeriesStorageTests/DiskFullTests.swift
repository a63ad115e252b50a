import DurableFiles
import Foundation
import Prometheus
import TallyTestKit
import TelemetryModel
import Testing
@testable import TimeSeriesStorage

/// The store on a real file system that fills up (a small tmpfs): writes
/// fail with ENOSPC, nothing accepted is lost, no half-written block shows.
@Suite("Storage on a full disk", .enabled(if: SmallDisk.available, "mounting tmpfs needs root"))
struct DiskFullTests {
    private func metric(_ registry: PrometheusCollectorRegistry, _ name: String) -> Double {
        var rendered: [UInt8] = []
        registry.emit(into: &rendered)
        for line in String(decoding: rendered, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ")[1]) ?? -1
        }
        return -1
    }

    @Test func aFullDiskDelaysSamplesAndBlocksButLosesNothing() throws {
        let disk = try SmallDisk(bytes: 8 << 20)
        defer { disk.unmount() }
        let path = disk.path + "/data"
        let registry = PrometheusCollectorRegistry()
        var options = testOptions()
        options.compactionRangesMillis = []
        let series = (0..<20).map { labels("disk_\($0)") }
        let db = try TSDB(directory: path, options: options, registry: registry)
        // Three one-minute block ranges in the head: the first is due for a block.
        var expected = fill(db, series: series, count: 180)
        db.syncWAL()

        disk.fill()
        db.maintain(now: t0)
        #expect(metric(registry, "tally_storage_block_errors_total") >= 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
        #expect(!names.contains { $0.count == 26 || $0.hasSuffix(".tmp") }, "no block, whole or half, is visible: \(names)")
        #expect(try everything(db) == expected, "queries answer from the head")

        // Flushes while the disk is full are stored in the head at once; their
        // WAL records wait in memory, counted, and are written once it frees.
        let late = fill(db, series: series, start: t0 + 180_000, count: 10)
        #expect(metric(registry, "tally_storage_wal_errors_total") >= 1)
        #expect(metric(registry, "tally_storage_wal_pending_batches") >= 1)
        let during = try everything(db)
        for s in series {
            #expect(during[s] == expected[s]! + late[s]!)
        }

        disk.free()
        // A series created now must not take the delayed batches with it.
        let newcomer = labels("disk_new")
        db.release([db.register(newcomer)])
        let later = fill(db, series: series + [newcomer], start: t0 + 190_000, count: 10)
        for s in series { expected[s]! += late[s]! + later[s]! }
        expected[newcomer] = later[newcomer]
        #expect(metric(registry, "tally_storage_wal_pending_batches") == 0)
        #expect(try everything(db) == expected, "the delayed flushes arrived in order")

        db.maintain(now: t0)
        #expect(blockDirectories(path).count >= 1)
        #expect(try everything(db) == expected)
    }

    @Test func theRecoveredWALReplaysEverythingAfterARestart() throws {
        let disk = try SmallDisk(bytes: 4 << 20)
        defer { disk.unmount() }
        let path = disk.path + "/data"
        let series = (0..<10).map { labels("restart_\($0)") }
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: path, options: testOptions())
            expected = fill(db, series: series, count: 30)
            disk.fill()
            let late = fill(db, series: series, start: t0 + 30_000, count: 5)
            disk.free()
            let later = fill(db, series: series, start: t0 + 35_000, count: 5)
            for s in series { expected[s]! += late[s]! + later[s]! }
            db.syncWAL()
        }
        let reopened = try TSDB(directory: path, options: testOptions())
        #expect(reopened.openReport.walRepaired == nil, "the WAL has no torn record in its middle")
        #expect(try everything(reopened) == expected)
    }
}
