#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// glibc's allocator, tuned for a query server: a query builds and frees
/// tens of MB of point arrays of a few hundred KB each, which by default
/// glibc maps and unmaps one by one, so every query pays page faults on
/// fresh memory (about a third of a range query's time, measured in
/// BENCHMARKS.md). Serving those arrays from the heap, and keeping up to
/// `keptFreeBytes` (256 MiB) of freed heap for the next query, removes that
/// cost. An operator's own `GLIBC_TUNABLES` wins: nothing is changed when it
/// is set.
public enum AllocatorTuning {
    /// Freed heap kept for the next query rather than handed back as it is freed.
    public static let keptFreeBytes = 256 << 20
    /// Freed heap left resident between maintenance rounds: queries in a
    /// burst reuse up to `keptFreeBytes`, and what is still free at the next
    /// round beyond this is handed back, so that RSS stays near the live heap.
    public static let keptBetweenRoundsBytes = 64 << 20

    public static func apply() {
        #if canImport(Glibc)
        guard getenv("GLIBC_TUNABLES") == nil else { return }
        _ = mallopt(M_MMAP_THRESHOLD, 8 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, Int32(keptFreeBytes))
        #endif
    }

    /// The heap in bytes: what live allocations take (`inUse`, mapped chunks
    /// included), and what the allocator holds freed (`free`), resident until
    /// handed back.
    public static func heap() -> (inUse: Int, free: Int) {
        #if canImport(Glibc)
        let info = mallinfo2()
        return (Int(info.uordblks) + Int(info.hblkhd), Int(info.fordblks))
        #else
        return (0, 0)
        #endif
    }

    /// Hands the allocator's free pages back to the system (glibc's
    /// `malloc_trim`, which also releases free pages inside the heap): for
    /// after a rare burst of transient memory, such as writing a block from
    /// a head of millions of series, which the kept 256 MiB would otherwise
    /// leave resident until the next maintenance round.
    public static func releaseFreeMemory() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }

    /// Anonymous memory resident in the process (`RssAnon` of
    /// /proc/self/status): the heap's touched pages, freed or not, and the
    /// threads' stacks; nil where the file cannot be read.
    public static func residentAnonymousBytes() -> Int? {
        #if canImport(Glibc)
        // A /proc file says it is empty (size 0): read until its end.
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            status += buffer[0..<n]
        }
        let text = String(decoding: status, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
              let kilobytes = Int(line.dropFirst("RssAnon:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") else { return nil }
        return kilobytes * 1024
        #else
        return nil
        #endif
    }

    /// Hands free pages back only when more freed memory is resident than
    /// `keptBetweenRoundsBytes` (resident anonymous memory less what live
    /// allocations take): the freed memory of series that came and went,
    /// which glibc never returns by itself from inside the heap, so that the
    /// process's memory follows what it holds, not the most it ever held.
    /// Returns whether it trimmed. Called each maintenance round.
    @discardableResult
    public static func releaseExcessFreeMemory() -> Bool {
        guard let resident = residentAnonymousBytes(), resident - heap().inUse > keptBetweenRoundsBytes else { return false }
        releaseFreeMemory()
        return true
    }
}
