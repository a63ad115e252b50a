import Foundation
import Testing
import TallyTestKit
import TelemetryModel
@testable import TimeSeriesStorage

@Suite("tsdb import")
struct SampleImportTests {
    @Test func oneSeriesWrittenWithLabelsInAnotherOrderIsOneSeries() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/in.prom"
        try """
        # TYPE m gauge
        m{a="1",b="2"} 1 1704067200000
        m{b="2",a="1"} 2 1704067210000
        m{a="1",b="2"} 3 1704067220000
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let report = try SampleImport.run(
            file: file, directory: dir.path + "/data", options: StorageOptions(), format: .prometheus, now: t0)
        #expect(report.series == 1 && report.samples == 3)
        let db = try TSDB(directory: dir.path + "/data")
        #expect(try everything(db)[Labels(name: "m", ["a": "1", "b": "2"])]?.map(\.value) == [1, 2, 3])
    }
}
