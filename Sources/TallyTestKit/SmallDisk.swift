#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A real, small file system (tmpfs of a fixed size) mounted on a temporary
/// directory, so a test can fill it and watch the writer meet ENOSPC, then
/// free space again. Mounting needs root (CI runs as root); `available`
/// says whether this machine allows it.
public final class SmallDisk: Sendable {
    public let path: String
    private let directory: TemporaryDirectory

    /// Whether tmpfs can be mounted here (probed once).
    public static let available: Bool = {
        guard geteuid() == 0, let probe = try? SmallDisk(bytes: 1 << 20) else { return false }
        probe.unmount()
        return true
    }()

    public init(bytes: Int) throws {
        directory = try TemporaryDirectory(prefix: "tally-disk")
        path = directory.path
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(bytes),mode=0755") == 0 else {
            let reason = String(cString: strerror(errno))
            directory.remove()
            throw SmallDiskError(message: "cannot mount tmpfs on \(path): \(reason)")
        }
    }

    /// Writes a file of zeros until the disk refuses more; returns its path.
    @discardableResult
    public func fill() -> String {
        let filler = path + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return filler }
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 4_096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        // Fill the last partial page too.
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, 1) }) > 0 {}
        return filler
    }

    /// Deletes what `fill()` wrote.
    public func free() {
        unlink(path + "/filler")
    }

    public func unmount() {
        umount2(path, Int32(MNT_DETACH))
        directory.remove()
    }

    deinit { unmount() }
}

public struct SmallDiskError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
