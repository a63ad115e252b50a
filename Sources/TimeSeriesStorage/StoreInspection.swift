import BlockCodec
import DurableFiles
import TelemetryModel

/// What `tally tsdb inspect` and `tally tsdb verify` report, computed from
/// the files alone (no lock is taken: both only read).
public enum StoreInspection {
    /// One block's contents and where its bytes go.
    public struct BlockReport: Sendable {
        public var meta: BlockMeta
        /// Bytes of the whole block directory.
        public var diskBytes: Int
        /// What Prometheus-style Gorilla chunks of 120 samples would take for
        /// the same samples (the first layer's saving, measured by re-encoding).
        public var gorillaBytes: Int
        /// Chunks by value encoding (`constant`, `integerDelta`, …).
        public var valueEncodings: [String: Int]
        /// Samples by value encoding.
        public var samplesByEncoding: [String: Int]
        /// Encoded bytes (before zlib) by value encoding.
        public var bytesByEncoding: [String: Int]
    }

    /// Opens and measures every block of a data directory.
    public static func inspect(directory: String) throws -> [BlockReport] {
        let cache = GroupCache(capacity: 256 << 20)
        var reports: [BlockReport] = []
        for name in try FileSystem.list(directory) where name.count == 26 && FileSystem.isDirectory(directory + "/" + name) {
            let block = try Block(path: directory + "/" + name, cache: cache)
            var gorilla = 0
            var encodings: [String: Int] = [:]
            var samplesBy: [String: Int] = [:]
            var bytesBy: [String: Int] = [:]
            for series in block.index.allSeries() {
                // Each chunk decoded once: its samples feed the Gorilla comparison, its end its size.
                var timestamps: [Int64] = []
                var values: [Double] = []
                for chunk in block.index.chunks(series) {
                    let group = try block.group(at: chunk.group)
                    guard Int(chunk.offsetInGroup) < group.count else {
                        throw StorageError(.corrupt("a chunk starts past the end of its group"), path: block.path + "/chunks", offset: Int(chunk.group))
                    }
                    let tag = PackedChunk.ValueEncoding(rawValue: group[Int(chunk.offsetInGroup)] & 0x0F)
                    let name = tag.map { "\($0)" } ?? "unknown"
                    encodings[name, default: 0] += 1
                    samplesBy[name, default: 0] += Int(chunk.count)
                    var end = Int(chunk.offsetInGroup)
                    let result = group.withUnsafeBytes { raw in
                        Result { () throws(CodecError) in try PackedChunk.decode(raw, at: &end, timestamps: &timestamps, values: &values) }
                    }
                    try result.get()
                    bytesBy[name, default: 0] += end - Int(chunk.offsetInGroup)
                }
                var start = 0
                while start < timestamps.count {
                    var chunk = HeadChunk(integers: false)
                    var end = start
                    // 120 samples, as Prometheus cuts them (and less than 2^32 ms, as the head chunk needs).
                    while end < min(start + 120, timestamps.count), timestamps[end] - timestamps[start] < HeadChunkRef.maxSpan {
                        chunk.append(timestamps[end], values[end])
                        end += 1
                    }
                    gorilla += chunk.stream.bytes.count + 2 // Prometheus adds a 2-byte sample count
                    start = end
                }
            }
            reports.append(BlockReport(
                meta: block.meta, diskBytes: FileSystem.treeSize(block.path), gorillaBytes: gorilla,
                valueEncodings: encodings, samplesByEncoding: samplesBy, bytesByEncoding: bytesBy))
        }
        return reports.sorted { $0.meta.minTime < $1.meta.minTime }
    }

    /// A damaged file found by `verify`.
    public struct Problem: Sendable, CustomStringConvertible {
        /// The block's id, or `wal`.
        public var block: String
        public var detail: String
        public var description: String { "\(block): \(detail)" }
    }

    /// Checks every checksum: each block's index sections and chunk groups
    /// (and decodes every chunk), and every WAL record. Returns the damage found.
    public static func verify(directory: String) throws -> (blocks: Int, problems: [Problem]) {
        let cache = GroupCache(capacity: 0)
        var problems: [Problem] = []
        var count = 0
        for name in try FileSystem.list(directory) where name.count == 26 && FileSystem.isDirectory(directory + "/" + name) {
            count += 1
            do {
                let block = try Block(path: directory + "/" + name, cache: cache)
                try block.verify()
            } catch {
                problems.append(Problem(block: name, detail: "\(error)"))
            }
        }
        do {
            let report = try WALReplay.run(directory: directory + "/wal", repair: false) { kind, payload in
                (try? WALRecord.decode(kind: kind, payload)) != nil
            }
            if let damage = report.repaired {
                problems.append(Problem(block: "wal", detail: "\(damage.path) at byte \(damage.offset): \(damage.reason)"))
            }
        } catch {
            problems.append(Problem(block: "wal", detail: "\(error)"))
        }
        return (count, problems)
    }
}
