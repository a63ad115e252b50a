#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DurableFiles
import TelemetryModel

/// `tally tsdb import`: reads a file of samples and writes blocks directly,
/// already compacted as the background compaction would leave them (one
/// block per window of the largest compaction range), so that `tally serve`
/// on the directory serves them at once.
///
/// Lines are parsed in place from a large read buffer; a line of the same
/// series as the one before (the usual case: files list each series' samples
/// together) costs one comparison of the series bytes, with no allocation.
public enum SampleImport {
    public struct Report: Sendable {
        public var series: Int
        public var samples: Int
        /// Samples dropped as exact duplicates or replaced by a later line
        /// with the same series and timestamp.
        public var duplicates: Int
        public var blocks: [BlockMeta]
    }

    /// Progress while reading: bytes read so far, the file's size, samples so far.
    public typealias Progress = (_ bytesRead: Int, _ totalBytes: Int, _ samples: Int) -> Void

    public static func run(
        file: String, directory: String, options: StorageOptions, format: ImportFormat? = nil,
        now: Int64, progress: Progress? = nil
    ) throws -> Report {
        try FileSystem.makeDirectory(directory)
        let lock = try DirectoryLock(directory: directory)
        defer { _ = lock }
        var collector = try read(file: file, format: format, progress: progress)
        let duplicates = collector.sortAndDeduplicate()
        let range = options.compactionRangesMillis.max() ?? options.blockDurationMillis
        let level = options.compactionRangesMillis.count + 1
        let order = collector.series.indices.sorted { collector.series[$0].labels.lexicographicallyPrecedes(collector.series[$1].labels) }
        var windows = Set<Int64>()
        for s in collector.series {
            guard let first = s.timestamps.first, let last = s.timestamps.last else { continue }
            for w in floorDivide(first, range)...floorDivide(last, range) { windows.insert(w) }
        }
        var blocks: [BlockMeta] = []
        for window in windows.sorted() {
            let start = window * range
            let end = start + range
            let writer = try BlockWriter(parent: directory, options: options, level: level, now: now)
            for i in order {
                let s = collector.series[i]
                let lower = s.timestamps.partitioningIndex { $0 >= start }
                let upper = s.timestamps.partitioningIndex { $0 >= end }
                guard lower < upper else { continue }
                try writer.add(s.labels, timestamps: Array(s.timestamps[lower..<upper]), values: Array(s.values[lower..<upper]))
            }
            if let meta = try writer.finish() { blocks.append(meta) }
        }
        return Report(
            series: collector.series.count, samples: collector.series.reduce(0) { $0 + $1.timestamps.count },
            duplicates: duplicates, blocks: blocks)
    }

    /// Every series of a file with its samples in time order, duplicates
    /// removed: what benchmarks replay into a store.
    public static func load(file: String, format: ImportFormat? = nil) throws -> [(labels: Labels, timestamps: [Int64], values: [Double])] {
        var collector = try read(file: file, format: format, progress: nil)
        _ = collector.sortAndDeduplicate()
        return collector.series.map { ($0.labels, $0.timestamps, $0.values) }
    }

    /// Reads every sample of the file into per-series arrays.
    static func read(file: String, format: ImportFormat?, progress: Progress?) throws -> Collector {
        let fd = try FileSystem.open(file, flags: O_RDONLY)
        defer { close(fd) }
        let total = try FileSystem.size(fd, path: file)
        var collector = Collector(file: file, format: format ?? ImportFormat.guess(path: file))
        let chunk = 16 << 20
        // One spare byte past the data: a NUL that stops strtod at the end of the buffer.
        var buffer = [UInt8](repeating: 0, count: chunk * 2 + 1)
        var filled = 0
        var read = 0
        var lastProgress = 0
        while true {
            if filled + chunk > buffer.count - 1 {
                buffer.append(contentsOf: repeatElement(0, count: chunk))
            }
            let n = buffer.withUnsafeMutableBytes { raw in
                Glibc.read(fd, raw.baseAddress!.advanced(by: filled), chunk)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystem.fail("read", file)
            }
            let atEnd = n == 0
            filled += n
            read += n
            buffer[filled] = 0
            let consumed = try buffer.withUnsafeBytes { raw in
                try collector.consume(UnsafeRawBufferPointer(rebasing: raw[0..<filled]), final: atEnd)
            }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    let rest = filled - consumed
                    if rest > 0 { memmove(raw.baseAddress!, raw.baseAddress!.advanced(by: consumed), rest) }
                }
                filled -= consumed
            }
            if let progress, read - lastProgress >= chunk || atEnd {
                lastProgress = read
                progress(read, total, collector.samples)
            }
            if atEnd { break }
        }
        return collector
    }

    /// One series' samples as read.
    struct CollectedSeries {
        var labels: Labels
        var timestamps: [Int64] = []
        var values: [Double] = []
    }

    /// Accumulates samples by series while lines are parsed.
    struct Collector {
        let file: String
        var format: ImportFormat?
        var series: [CollectedSeries] = []
        var byKey: [[UInt8]: Int] = [:]
        /// The same series may be written in several ways (labels in another order).
        var byLabels: [Labels: Int] = [:]
        var lastKey: [UInt8] = []
        var lastIndex = -1
        var line = 0
        var samples = 0

        init(file: String, format: ImportFormat?) {
            self.file = file
            self.format = format
        }

        func fail(_ message: String) -> ImportError {
            ImportError(file: file, line: line, message: message)
        }

        /// Parses every complete line; returns the bytes consumed. At the
        /// end of the file a last line without a newline counts too.
        mutating func consume(_ bytes: UnsafeRawBufferPointer, final: Bool) throws -> Int {
            var start = 0
            while start < bytes.count {
                let newline = memchr(bytes.baseAddress!.advanced(by: start), Int32(UInt8(ascii: "\n")), bytes.count - start)
                let end: Int
                if let newline {
                    end = bytes.baseAddress!.distance(to: UnsafeRawPointer(newline))
                } else if final {
                    end = bytes.count
                } else {
                    break
                }
                line += 1
                var lineEnd = end
                if lineEnd > start && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                if lineEnd > start {
                    try parseLine(UnsafeRawBufferPointer(rebasing: bytes[start..<lineEnd]))
                }
                start = end + 1
            }
            return min(start, bytes.count)
        }

        private mutating func parseLine(_ line: UnsafeRawBufferPointer) throws {
            if format == nil { format = ImportFormat.sniff(Array(line)) }
            switch format! { // set just above
            case .openMetrics, .prometheus:
                if line[0] == UInt8(ascii: "#") { return }
                try parseText(line, secondsTimestamps: format == .openMetrics)
            case .csv:
                if self.line == 1 && line.starts(with: "name,labels,".utf8) { return }
                try parseCSV(line)
            case .jsonl:
                try parseJSON(line)
            }
        }

        /// `series value timestamp`.
        private mutating func parseText(_ line: UnsafeRawBufferPointer, secondsTimestamps: Bool) throws {
            let keyEnd = try seriesEnd(line)
            var cursor = keyEnd
            while cursor < line.count && line[cursor] == UInt8(ascii: " ") { cursor += 1 }
            let (value, afterValue) = try parseDouble(line, at: cursor)
            cursor = afterValue
            while cursor < line.count && line[cursor] == UInt8(ascii: " ") { cursor += 1 }
            guard cursor < line.count else { throw fail("a timestamp is needed for import") }
            let timestamp = secondsTimestamps
                ? try parseDecimalMillis(line, from: cursor)
                : try parseInteger(line, from: cursor, to: line.count)
            try add(key: UnsafeRawBufferPointer(rebasing: line[0..<keyEnd]), timestamp: timestamp, value: value)
        }

        /// Where the series part of a text line ends: after the closing
        /// brace of its labels, or at the first space without labels.
        private func seriesEnd(_ line: UnsafeRawBufferPointer) throws -> Int {
            // Fast path: the same series as the previous line.
            if !lastKey.isEmpty, line.count > lastKey.count, line[lastKey.count] == UInt8(ascii: " "),
               lastKey.withUnsafeBytes({ memcmp($0.baseAddress!, line.baseAddress!, lastKey.count) == 0 }) {
                return lastKey.count
            }
            var i = 0
            while i < line.count && line[i] != UInt8(ascii: "{") && line[i] != UInt8(ascii: " ") { i += 1 }
            guard i > 0 else { throw fail("expected a metric name") }
            guard i < line.count else { throw fail("expected a value after the series") }
            guard line[i] == UInt8(ascii: "{") else { return i }
            var inQuotes = false
            i += 1
            while i < line.count {
                let byte = line[i]
                if inQuotes {
                    if byte == UInt8(ascii: "\\") { i += 1 } else if byte == UInt8(ascii: "\"") { inQuotes = false }
                } else if byte == UInt8(ascii: "\"") {
                    inQuotes = true
                } else if byte == UInt8(ascii: "}") {
                    return i + 1
                }
                i += 1
            }
            throw fail("labels are not closed with }")
        }

        /// `name,labels,ts_ms,value`.
        private mutating func parseCSV(_ line: UnsafeRawBufferPointer) throws {
            var commas: [Int] = []
            var i = 0
            while i < line.count && commas.count < 3 {
                if line[i] == UInt8(ascii: ",") { commas.append(i) }
                i += 1
            }
            guard commas.count == 3 else { throw fail("expected name,labels,ts_ms,value") }
            let timestamp = try parseInteger(line, from: commas[1] + 1, to: commas[2])
            let (value, end) = try parseDouble(line, at: commas[2] + 1)
            guard end == line.count else { throw fail("unexpected bytes after the value") }
            try add(key: UnsafeRawBufferPointer(rebasing: line[0...commas[1]]), timestamp: timestamp, value: value)
        }

        /// `{"name":…,"labels":{…},"ts_ms":N,"value":V}`.
        private mutating func parseJSON(_ line: UnsafeRawBufferPointer) throws {
            let tsKey = Array(",\"ts_ms\":".utf8)
            guard let keyEnd = find(tsKey, in: line) else { throw fail("expected a \"ts_ms\" field") }
            let tsStart = keyEnd + tsKey.count
            var tsEnd = tsStart
            while tsEnd < line.count && line[tsEnd] != UInt8(ascii: ",") && line[tsEnd] != UInt8(ascii: "}") { tsEnd += 1 }
            let timestamp = try parseInteger(line, from: tsStart, to: tsEnd)
            let valueKey = Array("\"value\":".utf8)
            guard let valueAt = find(valueKey, in: UnsafeRawBufferPointer(rebasing: line[tsEnd...])) else {
                throw fail("expected a \"value\" field")
            }
            var cursor = tsEnd + valueAt + valueKey.count
            let quoted = cursor < line.count && line[cursor] == UInt8(ascii: "\"")
            if quoted { cursor += 1 }
            let (value, _) = try parseDouble(line, at: cursor)
            try add(key: UnsafeRawBufferPointer(rebasing: line[0..<keyEnd]), timestamp: timestamp, value: value)
        }

        private func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
            guard haystack.count >= needle.count else { return nil }
            let first = needle[0]
            var i = 0
            while i + needle.count <= haystack.count {
                if haystack[i] == first, needle.withUnsafeBytes({ memcmp($0.baseAddress!, haystack.baseAddress! + i, needle.count) == 0 }) {
                    return i
                }
                i += 1
            }
            return nil
        }

        private mutating func add(key: UnsafeRawBufferPointer, timestamp: Int64, value: Double) throws {
            let same = lastIndex >= 0 && key.count == lastKey.count
                && lastKey.withUnsafeBytes { memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }
            if !same {
                let bytes = Array(key)
                if let existing = byKey[bytes] {
                    lastIndex = existing
                } else {
                    guard let labels = SeriesKeyParser.labels(bytes, format: format!) else {
                        throw fail("cannot read the series \(String(decoding: bytes, as: UTF8.self))")
                    }
                    if let sameSeries = byLabels[labels] {
                        lastIndex = sameSeries
                    } else {
                        lastIndex = series.count
                        byLabels[labels] = lastIndex
                        series.append(CollectedSeries(labels: labels))
                    }
                    byKey[bytes] = lastIndex
                }
                lastKey = bytes
            }
            series[lastIndex].timestamps.append(timestamp)
            series[lastIndex].values.append(value)
            samples += 1
        }

        /// A float with strtod (which accepts NaN, Inf and +Inf as
        /// Prometheus writes them); returns it and where it ended.
        private func parseDouble(_ line: UnsafeRawBufferPointer, at offset: Int) throws -> (Double, Int) {
            guard offset < line.count else { throw fail("expected a value") }
            let start = line.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(start, &end)
            // strtod stops at the first byte that is not part of a number: a separator or the buffer's NUL.
            let length = end.map { UnsafeRawPointer(start).distance(to: UnsafeRawPointer($0)) } ?? 0
            guard length > 0, offset + length <= line.count else { throw fail("the value is not a number") }
            let next = offset + length
            if next < line.count, line[next] != UInt8(ascii: " "), line[next] != UInt8(ascii: ","),
               line[next] != UInt8(ascii: "}"), line[next] != UInt8(ascii: "\"") {
                throw fail("the value is not a number")
            }
            return (value, next + (next < line.count && line[next] == UInt8(ascii: "\"") ? 1 : 0))
        }

        private func parseInteger(_ line: UnsafeRawBufferPointer, from: Int, to: Int) throws -> Int64 {
            var i = from
            var negative = false
            if i < to && line[i] == UInt8(ascii: "-") {
                negative = true
                i += 1
            }
            guard i < to else { throw fail("expected a timestamp") }
            var value: Int64 = 0
            while i < to {
                let digit = line[i] &- UInt8(ascii: "0")
                guard digit < 10 else { throw fail("the timestamp is not an integer") }
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int64(digit))
                guard !o1 && !o2 else { throw fail("the timestamp is out of range") }
                value = sum
                i += 1
            }
            return negative ? -value : value
        }

        /// Unix seconds with up to three decimals (more are truncated), exactly, as milliseconds.
        private func parseDecimalMillis(_ line: UnsafeRawBufferPointer, from: Int) throws -> Int64 {
            var end = from
            while end < line.count && line[end] != UInt8(ascii: " ") { end += 1 }
            guard let dot = (from..<end).first(where: { line[$0] == UInt8(ascii: ".") }) else {
                let seconds = try parseInteger(line, from: from, to: end)
                return seconds * 1_000
            }
            let seconds = try parseInteger(line, from: from, to: dot)
            var millis: Int64 = 0
            for k in 0..<3 {
                let i = dot + 1 + k
                let digit: Int64
                if i < end {
                    let d = line[i] &- UInt8(ascii: "0")
                    guard d < 10 else { throw fail("the timestamp is not a number") }
                    digit = Int64(d)
                } else {
                    digit = 0
                }
                millis = millis * 10 + digit
            }
            return seconds < 0 || (seconds == 0 && line[from] == UInt8(ascii: "-")) ? seconds * 1_000 - millis : seconds * 1_000 + millis
        }

        /// Puts each series in time order and removes repeated timestamps
        /// (the last line wins); returns how many samples that removed.
        mutating func sortAndDeduplicate() -> Int {
            var removed = 0
            for i in series.indices {
                var s = series[i]
                var sorted = true
                for j in s.timestamps.indices.dropFirst() where s.timestamps[j] <= s.timestamps[j - 1] {
                    sorted = false
                    break
                }
                guard !sorted else { continue }
                let order = s.timestamps.indices.sorted { (s.timestamps[$0], $0) < (s.timestamps[$1], $1) }
                var timestamps: [Int64] = []
                var values: [Double] = []
                for j in order {
                    if let last = timestamps.last, last == s.timestamps[j] {
                        values[values.count - 1] = s.values[j]
                        removed += 1
                    } else {
                        timestamps.append(s.timestamps[j])
                        values.append(s.values[j])
                    }
                }
                s.timestamps = timestamps
                s.values = values
                series[i] = s
            }
            return removed
        }
    }
}

extension Array {
    /// The first index whose element satisfies a predicate that is false
    /// then true along the array (binary search).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
