/// Builds a datagram from lines, newline-separated, as clients send them.
public func datagram(_ lines: [String]) -> [UInt8] {
    Array(lines.joined(separator: "\n").utf8)
}
