#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator, tuned for a query server: a query builds and frees
/// tens of MB of point arrays of a few hundred KB each, which by default
/// glibc maps and unmaps one by one, so every query pays page faults on
/// fresh memory (about a third of a range query's time, measured in
/// BENCHMARKS.md). Serving those arrays from the heap, and keeping up to
/// 256 MiB of freed heap for the next query, removes that cost. An
/// operator's own `GLIBC_TUNABLES` wins: nothing is changed when it is set.
public enum AllocatorTuning {
    /// glibc's `mallopt` parameters (malloc.h, which Swift's Glibc module leaves out).
    private static let trimThreshold: Int32 = -1
    private static let mmapThreshold: Int32 = -3

    public static func apply() {
        #if canImport(Glibc)
        guard getenv("GLIBC_TUNABLES") == nil, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(mmapThreshold, 8 << 20)
        _ = mallopt(trimThreshold, 256 << 20)
        #endif
    }

    /// Hands the allocator's free pages back to the system (glibc's
    /// `malloc_trim`, which also releases free pages inside the heap): for
    /// after a rare burst of transient memory, such as writing a block from
    /// a head of millions of series, which the kept 256 MiB would otherwise
    /// leave resident until the next one.
    public static func releaseFreeMemory() {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        typealias MallocTrim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
