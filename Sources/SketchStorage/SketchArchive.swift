#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Aggregation
import DurableFiles
import Logging
import Prometheus
import Synchronization
import TelemetryModel

/// The hourly sketches of the summary families (timers, histograms,
/// distributions) that the report reads, merged across series, kept on disk beside the blocks
/// in `data_dir/sketches`: what a day's p99 is computed from. The shards
/// hand over each interval's rollups; `persist` writes what came since
/// the last call as a part file of its hour, and once an hour is over, its
/// parts become one file. Files older than the retention are deleted.
/// What arrived since the last `persist` is in memory only (at most the
/// persist period, five minutes as tally runs it, if tally is killed).
public final class SketchArchive: SketchRollupSink, SketchQuerier, Sendable {
    public static let hourMillis: Int64 = 3_600_000

    public let directory: String
    /// The families kept (the report's latency metrics); others are not built.
    public let families: SketchFamilySelection
    let mapping: SketchMapping
    let retentionMillis: Int64
    let logger: Logger
    let metrics: Metrics

    struct State {
        /// Rollups not yet written, by hour start and family name.
        var pending: [Int64: PendingRollups] = [:]
        /// Files by hour start.
        var files: [Int64: [String]] = [:]
        var nextPart = 1
    }

    let state: Mutex<State>

    struct Metrics: Sendable {
        let filesWritten: Counter
        let writeErrors: Counter
        let merges: Counter
        let deletions: Counter
        let files: Gauge
    }

    /// Opens (or creates) the archive in `directory`; leftover temporary files are removed.
    public init(
        directory: String, relativeAccuracy: Double, retentionMillis: Int64, families: SketchFamilySelection = .all,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger = Logger(label: "tally.sketches")
    ) throws(StorageError) {
        self.directory = directory
        self.families = families
        mapping = SketchMapping(relativeAccuracy: relativeAccuracy)
        self.retentionMillis = retentionMillis
        self.logger = logger
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help))
        }
        metrics = Metrics(
            filesWritten: counter("tally_sketch_files_written", "Sketch archive files written (parts of an hour, and whole hours)."),
            writeErrors: counter("tally_sketch_write_errors", "Failed writes of the sketch archive (the sketches stay in memory and are retried)."),
            merges: counter("tally_sketch_hour_merges", "Hours whose part files were merged into one."),
            deletions: counter("tally_sketch_retention_deletions", "Sketch archive files deleted by retention."),
            files: registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "tally_sketch_files", unitName: "", helpText: "Files in the sketch archive.")))
        try FileSystem.makeDirectory(directory)
        var state = State()
        for name in try FileSystem.list(directory) {
            if name.hasSuffix(".tmp") {
                unlink(directory + "/" + name)
                continue
            }
            guard let (hour, part) = Self.parse(name) else { continue }
            state.files[hour, default: []].append(name)
            state.nextPart = max(state.nextPart, part + 1)
        }
        self.state = Mutex(state)
        updateGauge()
    }

    /// `HOUR.hour.sk` for a whole hour, `HOUR.N.part.sk` for a part (HOUR: its start in ms).
    static func parse(_ name: String) -> (hour: Int64, part: Int)? {
        let pieces = name.split(separator: ".")
        guard pieces.count >= 3, pieces.last == "sk", let hour = Int64(pieces[0]) else { return nil }
        if pieces.count == 3, pieces[1] == "hour" { return (hour, 0) }
        if pieces.count == 4, pieces[2] == "part", let part = Int(pieces[1]) { return (hour, part) }
        return nil
    }

    static func hourStart(_ millis: Int64) -> Int64 {
        floorDivide(millis, hourMillis) * hourMillis
    }

    // MARK: Writing

    public func keeps(family name: String) -> Bool {
        families.contains(name)
    }

    /// Merges an interval's rollups into its hour (the hour holding the
    /// interval's last millisecond).
    public func add(_ rollups: [SketchRollup], intervalEnd: Int64) {
        let hour = Self.hourStart(intervalEnd - 1)
        state.withLock { state in
            for rollup in rollups where !rollup.isEmpty && families.contains(rollup.name) {
                state.pending[hour, default: PendingRollups()].merge(rollup)
            }
        }
    }

    /// Writes what arrived since the last call, one part file per hour; then
    /// merges the parts of each hour that ended before `now` into one file,
    /// and deletes files older than the retention. A write that fails keeps
    /// its sketches in memory for the next call.
    public func persist(now: Int64) {
        let taken = state.withLock { state in
            let taken = state.pending
            state.pending = [:]
            return taken
        }
        for (hour, byName) in taken.sorted(by: { $0.key < $1.key }) {
            let part = state.withLock { state in
                defer { state.nextPart += 1 }
                return state.nextPart
            }
            let name = "\(hour).\(part).part.sk"
            do throws(StorageError) {
                try SketchFile.write(path: directory + "/" + name, rollups: byName.rollups, relativeAccuracy: mapping.relativeAccuracy)
                metrics.filesWritten.increment()
                state.withLock { $0.files[hour, default: []].append(name) }
            } catch {
                metrics.writeErrors.increment()
                logger.error("cannot write the sketch archive; the sketches stay in memory and are retried", metadata: ["error": "\(error)"])
                add(byName.rollups, intervalEnd: hour + 1)
            }
        }
        let ended = state.withLock { state in
            state.files.filter { hour, names in
                hour + Self.hourMillis <= now && state.pending[hour] == nil && (names.count > 1 || !names[0].hasSuffix(".hour.sk"))
            }
        }
        for (hour, names) in ended.sorted(by: { $0.key < $1.key }) { mergeHour(hour, names) }
        applyRetention(now: now)
        updateGauge()
    }

    /// Rewrites an ended hour's files as one: the merged file is in place
    /// before the parts are deleted (a crash in between leaves the parts,
    /// which are then merged again, as the hour file replaces its name).
    private func mergeHour(_ hour: Int64, _ names: [String]) {
        var merged: [String: SketchRollup] = [:]
        do throws(StorageError) {
            for name in names {
                let (accuracy, rollups) = try SketchFile.read(path: directory + "/" + name)
                guard accuracy == mapping.relativeAccuracy else {
                    logger.warning("a sketch file was written at another relative accuracy; its hour is left as it is",
                                   metadata: ["file": "\(directory)/\(name)", "accuracy": "\(accuracy)"])
                    return
                }
                for rollup in rollups { merged[rollup.name, default: SketchRollup(name: rollup.name, kind: rollup.kind)].merge(rollup) }
            }
            let name = "\(hour).hour.sk"
            try SketchFile.write(path: directory + "/" + name, rollups: Array(merged.values), relativeAccuracy: mapping.relativeAccuracy)
            state.withLock { $0.files[hour] = [name] }
            for old in names where old != name { unlink(directory + "/" + old) }
            metrics.merges.increment()
        } catch {
            metrics.writeErrors.increment()
            logger.error("cannot merge an hour of the sketch archive; its parts stay", metadata: ["error": "\(error)"])
        }
    }

    private func applyRetention(now: Int64) {
        let horizon = now - retentionMillis
        let doomed = state.withLock { state in
            let doomed = state.files.filter { $0.key + Self.hourMillis <= horizon }
            for hour in doomed.keys { state.files[hour] = nil }
            return doomed.values.flatMap { $0 }
        }
        for name in doomed where unlink(directory + "/" + name) == 0 || errno == ENOENT {
            metrics.deletions.increment()
        }
    }

    private func updateGauge() {
        metrics.files.set(Int64(state.withLock { $0.files.values.reduce(0) { $0 + $1.count } }))
    }

    // MARK: Reading

    private static func isMissing(_ error: StorageError) -> Bool {
        if case .io(_, let code) = error.code { return code == ENOENT }
        return false
    }

    /// Merges the sketches of the hours that overlap `start..<end` (whole
    /// hours: a range that does not begin and end on the hour takes the
    /// hours it touches), from the files and from memory.
    public func quantiles(_ q: Double, names: Set<String>, start: Int64, end: Int64) throws(StoredDataError) -> [String: Double] {
        guard !names.isEmpty, start < end else { return [:] }
        let first = Self.hourStart(start)
        // A file may be merged away between the listing and the read: then the listing is taken again.
        var attempts = 0
        while true {
            attempts += 1
            let (files, pending) = state.withLock { state in
                (state.files.filter { $0.key >= first && $0.key < end }, state.pending.filter { $0.key >= first && $0.key < end })
            }
            var merged: [String: SketchRollup] = [:]
            func take(_ rollup: SketchRollup) {
                guard names.contains(rollup.name) else { return }
                merged[rollup.name, default: SketchRollup(name: rollup.name, kind: rollup.kind)].merge(rollup)
            }
            do throws(StorageError) {
                for name in files.values.flatMap({ $0 }) {
                    let (accuracy, rollups) = try SketchFile.read(path: directory + "/" + name)
                    // Sketches of another accuracy cannot be merged with these: that hour is left out.
                    guard accuracy == mapping.relativeAccuracy else { continue }
                    rollups.forEach(take)
                }
            } catch let error where Self.isMissing(error) && attempts < 3 {
                continue
            } catch {
                throw StoredDataError("the sketch archive is damaged: \(error); remove the file to leave its hour out of quantiles")
            }
            for byName in pending.values { byName.rollups.forEach(take) }
            return merged.compactMapValues { $0.quantile(q, mapping: mapping) }
        }
    }
}
