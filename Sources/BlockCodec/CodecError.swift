/// Bytes that do not decode: truncated, inconsistent or of an unknown
/// version. Carries the byte offset within the decoded input.
public struct CodecError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: Sendable, Equatable {
        case truncated
        case unknownEncoding(UInt8)
        case malformedVarint
        case inconsistent(String)
        case zlib(Int32)
    }

    public var code: Code
    /// Where decoding stopped, in bytes from the start of the input.
    public var offset: Int

    public init(_ code: Code, offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String {
        switch code {
        case .truncated: return "input ends early at byte \(offset)"
        case .unknownEncoding(let tag): return "unknown encoding \(tag) at byte \(offset)"
        case .malformedVarint: return "malformed varint at byte \(offset)"
        case .inconsistent(let what): return "\(what) at byte \(offset)"
        case .zlib(let status): return "zlib error \(status) at byte \(offset)"
        }
    }
}
