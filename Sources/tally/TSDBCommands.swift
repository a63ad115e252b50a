#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import TallyApp
import DurableFiles
import LogStorage
import TimeSeriesStorage

/// `tally tsdb …`: offline tools for a data directory.
struct TSDBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tsdb",
        abstract: "Import, inspect and verify a data directory.",
        subcommands: [Import.self, Inspect.self, Verify.self]
    )
}

/// Prints one line on stderr and exits with status 1.
private func failAndExit(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tally: \(message)\n".utf8))
    exit(1)
}

/// Reads the storage settings from a config file, if one is given.
private func storageOptions(config: String?) -> StorageOptions {
    guard let config else { return StorageOptions() }
    do {
        let text = try String(contentsOfFile: config, encoding: .utf8)
        return try ConfigLoader.load(yaml: text, file: config).storage
    } catch {
        failAndExit("\(error)")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write blocks from a file of samples.",
        discussion: """
        Reads OpenMetrics or Prometheus text (with timestamps), or the CSV or JSON-lines output of \
        gen-series.py, and writes blocks straight into the data directory, already compacted as \
        the background compaction would leave them. `tally serve --data-dir DIR` then serves them. \
        The directory must not be in use by a running tally.
        """
    )

    @Argument(help: "The file to import.")
    var file: String

    @Option(name: .long, help: ArgumentHelp("The data directory to write blocks into.", valueName: "dir"))
    var dataDir: String

    @Option(name: .long, help: ArgumentHelp("openmetrics, prom, csv or jsonl (default: from the file name, then its first line).", valueName: "format"))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("A tally.yaml whose storage settings apply (compression level, ranges).", valueName: "file"))
    var config: String?

    func run() throws {
        var chosen: ImportFormat?
        if let format {
            guard let parsed = ImportFormat(rawValue: format) else {
                failAndExit("unknown format \(format): expected openmetrics, prom, csv or jsonl")
            }
            chosen = parsed
        }
        let options = storageOptions(config: config)
        let started = Date()
        let bar = isatty(2) == 1 ? ProgressBar() : nil
        let report: SampleImport.Report
        do {
            report = try SampleImport.run(
                file: file, directory: dataDir, options: options, format: chosen,
                now: Int64(Date().timeIntervalSince1970 * 1000)
            ) { read, total, samples in bar?.show(read: read, total: total, samples: samples, since: started) }
        } catch {
            bar?.finish()
            failAndExit("\(error)")
        }
        bar?.finish()
        let seconds = Date().timeIntervalSince(started)
        let bytes = report.blocks.reduce(0) { $0 + $1.stats.chunkFileBytes + $1.stats.indexBytes + 400 }
        print("imported \(report.samples) samples of \(report.series) series into \(report.blocks.count) block(s) in \(String(format: "%.2f", seconds)) s (\(Int(Double(report.samples) / max(seconds, 0.001))) samples/s)")
        if report.duplicates > 0 { print("replaced \(report.duplicates) samples with a repeated timestamp (the last line wins)") }
        print("about \(bytes) bytes on disk, \(String(format: "%.3f", Double(bytes) / Double(max(report.samples, 1)))) bytes per sample; see `tally tsdb inspect \(dataDir)`")
    }
}

/// A one-line progress bar on stderr, redrawn at most every quarter second.
final class ProgressBar {
    private var last = Date.distantPast

    func show(read: Int, total: Int, samples: Int, since: Date) {
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.25 || read >= total else { return }
        last = now
        let fraction = total > 0 ? Double(read) / Double(total) : 1
        let width = 30
        let done = Int(fraction * Double(width))
        let rate = Double(samples) / max(now.timeIntervalSince(since), 0.001)
        let line = "\r[\(String(repeating: "#", count: done))\(String(repeating: " ", count: width - done))] \(Int(fraction * 100))% \(samples) samples, \(String(format: "%.2f", rate / 1e6)) M/s"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the blocks of a data directory and how much each layer of compression saved."
    )

    @Argument(help: "The data directory.")
    var dataDir: String

    func run() throws {
        let reports: [StoreInspection.BlockReport]
        do {
            reports = try StoreInspection.inspect(directory: dataDir)
        } catch {
            failAndExit("\(error)")
        }
        guard !reports.isEmpty else {
            print("no blocks in \(dataDir)")
            return
        }
        func iso(_ millis: Int64) -> String {
            let formatter = ISO8601DateFormatter()
            return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
        }
        func perSample(_ bytes: Int, _ samples: Int) -> String { String(format: "%.3f", Double(bytes) / Double(max(samples, 1))) }
        var totals = (series: 0, samples: 0, disk: 0, gorilla: 0, encoded: 0, chunks: 0)
        var encodings: [String: Int] = [:]
        for r in reports {
            let m = r.meta
            print("block \(m.ulid)  \(iso(m.minTime)) .. \(iso(m.maxTime))  level \(m.compaction.level)")
            print("  series \(m.stats.series)  samples \(m.stats.samples)  chunks \(m.stats.chunks)  groups \(m.stats.groups)")
            print("  bytes on disk \(r.diskBytes) (\(perSample(r.diskBytes, m.stats.samples)) per sample); index \(m.stats.indexBytes)")
            print("  raw 16 B/sample -> Gorilla \(perSample(r.gorillaBytes, m.stats.samples)) -> tally encodings \(perSample(m.stats.encodedBytes, m.stats.samples)) -> zlib \(perSample(m.stats.chunkFileBytes, m.stats.samples)) B/sample")
            print("  value encodings: chunks, samples, bytes before zlib per sample")
            for name in r.valueEncodings.keys.sorted() {
                let samples = r.samplesByEncoding[name] ?? 0
                print("    \(name): \(r.valueEncodings[name]!) chunks, \(samples) samples, \(perSample(r.bytesByEncoding[name] ?? 0, samples)) B/sample")
            }
            totals.series = max(totals.series, m.stats.series)
            totals.samples += m.stats.samples
            totals.disk += r.diskBytes
            totals.gorilla += r.gorillaBytes
            totals.encoded += m.stats.encodedBytes
            totals.chunks += m.stats.chunkFileBytes
            for (k, v) in r.samplesByEncoding { encodings[k, default: 0] += v }
        }
        print("total: \(reports.count) block(s), \(totals.samples) samples, \(totals.disk) bytes on disk = \(perSample(totals.disk, totals.samples)) bytes per sample")
        let raw = Double(totals.samples * 16)
        print(String(format: "layers: raw %.0f B -> Gorilla %d B (%.1fx) -> tally encodings %d B (%.1fx) -> zlib %d B (%.1fx overall)",
                     raw, totals.gorilla, raw / Double(max(totals.gorilla, 1)), totals.encoded,
                     raw / Double(max(totals.encoded, 1)), totals.chunks, raw / Double(max(totals.chunks, 1))))
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum of a data directory (metrics and logs); exit 1 naming each damaged file and byte.",
        discussion: """
        Reads every block, the metrics WAL, every log segment and the log WAL under DIR (the log \
        store is DIR/logs) without taking the directory's lock, so it can run beside tally serve.
        """
    )

    @Argument(help: "The data directory.")
    var dataDir: String

    func run() throws {
        let metrics: (blocks: Int, problems: [StoreInspection.Problem])
        let logs: (segments: Int, problems: [StorageError])
        do {
            metrics = try StoreInspection.verify(directory: dataDir)
            logs = try LogStoreInspection.verify(directory: dataDir + "/logs")
        } catch {
            failAndExit("\(error)")
        }
        let problems = metrics.problems.map { "\($0)" } + logs.problems.map { "logs: \($0)" }
        if problems.isEmpty {
            print("ok: \(metrics.blocks) block(s), the metrics WAL, \(logs.segments) log segment(s) and the log WAL verified")
            return
        }
        for problem in problems { FileHandle.standardError.write(Data("damaged: \(problem)\n".utf8)) }
        throw ExitCode(1)
    }
}
