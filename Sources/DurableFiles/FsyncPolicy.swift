/// When the write-ahead log is fsynced.
public enum FsyncPolicy: Sendable, Equatable {
    /// After every flushed batch, before it becomes visible: nothing
    /// acknowledged is lost even on power failure.
    case always
    /// At most this often (milliseconds): a power failure loses at most the
    /// interval; a killed process loses nothing (the page cache survives it).
    case interval(Int64)
    /// Left to the kernel.
    case never
}
