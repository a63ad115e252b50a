import BlockCodec

/// Reads the write-ahead log back at start: the newest checkpoint, then the
/// segments after it, record by record. A record whose frame is cut short or
/// whose CRC does not match ends the log: the file is truncated there and
/// any later segment removed, so every record before it survives and the
/// damage is not read twice. docs/format/wal.md.
package struct WALReplay {
    /// What the replay found, for the log and `/metrics`.
    package struct Report: Sendable {
        package var checkpoint: Int?
        package var segments = 0
        package var records = 0
        /// Where the log was cut, when it was: file and byte offset, and why.
        package var repaired: (path: String, offset: Int, reason: String)?
    }

    /// Replays the log, handing each record's kind and payload to `apply`,
    /// which returns false when the payload does not decode (that ends the
    /// log like a bad checksum). With `repair` false (for `tally tsdb
    /// verify`) the files are only read, and damage is reported, not cut off.
    package static func run(
        directory: String, repair: Bool = true, _ apply: (UInt8, UnsafeRawBufferPointer) -> Bool
    ) throws(StorageError) -> Report {
        var report = Report()
        guard FileSystem.isDirectory(directory) else { return report }
        // Remove leftovers of a checkpoint interrupted before its rename.
        for name in try FileSystem.list(directory) where name.hasSuffix(".tmp") && repair {
            try FileSystem.removeTree(directory + "/" + name)
        }
        let checkpoint = try WAL.checkpoint(in: directory)
        if let checkpoint {
            report.checkpoint = checkpoint
            let path = directory + "/" + WAL.checkpointName(checkpoint)
            // A checkpoint is renamed into place only once complete: damage is not a torn write.
            if let damage = try replayFile(path, strict: !repair, &report, apply) {
                throw StorageError(.corrupt("checkpoint: \(damage.reason)"), path: path, offset: damage.offset)
            }
        }
        let segments = try WAL.segments(in: directory).filter { $0 > (checkpoint ?? 0) }
        for (position, number) in segments.enumerated() {
            let path = directory + "/" + WAL.segmentName(number)
            report.segments += 1
            if let damage = try replayFile(path, strict: !repair, &report, apply) {
                report.repaired = (path, damage.offset, damage.reason)
                guard repair else { break }
                try FileSystem.truncate(path, to: damage.offset)
                for later in segments[(position + 1)...] {
                    try FileSystem.removeTree(directory + "/" + WAL.segmentName(later))
                }
                break
            }
        }
        return report
    }

    /// Applies every valid record of one file; returns where and why it
    /// stopped early, or nil when the whole file was read.
    private static func replayFile(
        _ path: String, strict: Bool, _ report: inout Report, _ apply: (UInt8, UnsafeRawBufferPointer) -> Bool
    ) throws(StorageError) -> (offset: Int, reason: String)? {
        let bytes = try FileSystem.readFile(path)
        return bytes.withUnsafeBytes { raw -> (offset: Int, reason: String)? in
            if let problem = WALFrame.headerProblem(raw, strict: strict) { return (0, problem) }
            var offset = WAL.headerSize
            while offset < raw.count {
                switch WALFrame.read(raw, at: offset) {
                case .record(let kind, let payload, let next):
                    guard apply(kind, payload) else { return (offset, "record does not decode") }
                    report.records += 1
                    offset = next
                case .incomplete(let needed):
                    return (offset, needed == WAL.frameSize ? "record frame cut short" : "record cut short")
                case .damaged(let reason):
                    return (offset, reason)
                }
            }
            return nil
        }
    }
}
