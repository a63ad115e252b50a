#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A storage failure with its context: which file, which operation, and the
/// system's reason or the damaged offset. Public errors are a struct over a
/// code, so new cases do not break callers.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// A system call failed (errno).
        case io(operation: String, errno: Int32)
        /// Bytes on disk fail their checksum or do not decode.
        case corrupt(String)
        /// Another process holds the data directory.
        case locked(String)
        /// A file has a version this tally cannot read.
        case unsupportedVersion(Int)
    }

    public var code: Code
    /// The file or directory concerned.
    public var path: String
    /// The byte offset concerned, when there is one.
    public var offset: Int?

    public init(_ code: Code, path: String, offset: Int? = nil) {
        self.code = code
        self.path = path
        self.offset = offset
    }

    public var description: String {
        let at = offset.map { " at byte \($0)" } ?? ""
        switch code {
        case .io(let operation, let errno):
            return "\(path): \(operation) failed: \(systemErrorMessage(errno))"
        case .corrupt(let what):
            return "\(path)\(at): corrupt: \(what)"
        case .locked(let holder):
            return "\(path): \(holder)"
        case .unsupportedVersion(let version):
            return "\(path)\(at): unsupported format version \(version)"
        }
    }
}
