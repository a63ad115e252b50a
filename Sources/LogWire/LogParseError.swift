/// Why a line could not be read as the format it claimed, and where: the
/// line is still stored, raw, with a `parse_error` label naming the format.
public struct LogParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The format the line was read as.
    public var format: LogSource
    /// Byte offset in the line where reading failed.
    public var offset: Int
    public var reason: String

    public init(format: LogSource, offset: Int, reason: String) {
        self.format = format
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(format.rawValue): \(reason) at byte \(offset)" }
}
