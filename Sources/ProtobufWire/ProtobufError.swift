/// Bytes that are not the protobuf message they claim to be: what is wrong,
/// and at which byte of the (decompressed) body.
public struct ProtobufError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Offset in the decoded buffer where the problem was found.
    public var offset: Int

    public init(_ message: String, at offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) at byte \(offset)" }
}
