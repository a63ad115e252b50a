#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An immutable file's bytes, mapped read-only: they cost address space and
/// page cache, not heap, and after `release` pages leave the process's
/// resident set until a reader touches them again. For files tally wrote
/// once and never changes, such as a block's index. (As with any mapping, a
/// file truncated by someone else while mapped faults its reader.)
///
/// `init(copying:)` holds bytes already in memory the same way, for readers
/// that decode a buffer rather than a file (fuzz targets, tests).
package final class MappedFile: @unchecked Sendable {
    // Invariants that make sharing safe: `base` points at `count` bytes that
    // nothing writes after init (PROT_READ for a mapping, a private copy
    // otherwise); they are unmapped or freed only in deinit, when no
    // reference (hence no reader) is left.
    private let base: UnsafeMutableRawPointer?
    package let count: Int
    private let mapped: Bool

    /// Maps the whole file at `path`.
    package init(path: String) throws(StorageError) {
        let fd = try FileSystem.open(path, flags: O_RDONLY)
        defer { close(fd) }
        count = try FileSystem.size(fd, path: path)
        mapped = true
        guard count > 0 else {
            base = nil
            return
        }
        let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else { throw FileSystem.fail("mmap", path) }
        base = address
    }

    /// Holds a private copy of `bytes`.
    package init(copying bytes: [UInt8]) {
        count = bytes.count
        mapped = false
        guard !bytes.isEmpty else {
            base = nil
            return
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 8)
        bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        base = copy
    }

    deinit {
        guard let base else { return }
        if mapped { munmap(base, count) } else { base.deallocate() }
    }

    /// The bytes (valid while this object lives).
    package var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    /// Drops the mapped pages from the resident set; the next read brings
    /// them back from the page cache (or the disk).
    package func release() {
        guard mapped, let base else { return }
        _ = madvise(base, count, MADV_DONTNEED)
    }
}
