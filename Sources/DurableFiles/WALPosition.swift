/// A place in a write-ahead log: a segment's number and a byte offset in
/// it. What a forwarder keeps on disk to resume where it left off.
public struct WALPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var segment: Int
    public var offset: Int

    public init(segment: Int, offset: Int) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (a: WALPosition, b: WALPosition) -> Bool {
        (a.segment, a.offset) < (b.segment, b.offset)
    }

    public var description: String { "\(WAL.segmentName(segment))@\(offset)" }
}

/// A store whose WAL forwarders read: it keeps the segments a forwarder
/// still needs through its checkpoints, and what those segments refer to
/// (series, streams) in the checkpoint records.
public protocol WALSource: Sendable {
    /// The store's `wal` folder.
    var walDirectory: String { get }
    /// Keeps the WAL from `segment` on for the forwarder `name`; called
    /// again as the forwarder moves on.
    func holdWAL(_ name: String, from segment: Int)
    /// The forwarder `name` needs nothing more.
    func releaseWAL(_ name: String)
}
