import CZlib

/// zlib compression from the system's libz, for block chunk groups and log
/// segments. The zlib format (RFC 1950) carries its own Adler-32, on top of
/// the CRC-32 the file formats keep per group.
public enum Deflate {
    /// `input` deflated at `level` (0 to 9; 1 is fastest, 9 smallest).
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32) -> [UInt8] {
        let bound = Int(compressBound(uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var length = uLongf(bound)
        let status = output.withUnsafeMutableBytes { out -> Int32 in
            // An empty input still needs a valid source pointer for libz.
            let source = input.baseAddress ?? UnsafeRawPointer(out.baseAddress!)
            return compress2(
                out.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                source.assumingMemoryBound(to: Bytef.self), uLong(input.count), level)
        }
        // compress2 fails only for a bad level or too small an output, both excluded here.
        precondition(status == Z_OK, "compress2 failed with \(status)")
        output.removeLast(bound - Int(length))
        return output
    }

    /// `input` deflated at `level`.
    public static func compress(_ input: [UInt8], level: Int32) -> [UInt8] {
        input.withUnsafeBytes { compress($0, level: level) }
    }

    /// Inflates `input`, which must decompress to exactly `expectedLength` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, expectedLength: Int) throws(CodecError) -> [UInt8] {
        guard expectedLength > 0 else { return [] }
        var output = [UInt8](repeating: 0, count: expectedLength)
        var length = uLongf(expectedLength)
        let status = output.withUnsafeMutableBytes { out -> Int32 in
            guard let source = input.baseAddress else { return Z_DATA_ERROR }
            return uncompress(
                out.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                source.assumingMemoryBound(to: Bytef.self), uLong(input.count))
        }
        guard status == Z_OK else { throw CodecError(.zlib(status), offset: 0) }
        guard Int(length) == expectedLength else {
            throw CodecError(.inconsistent("inflated \(length) bytes, expected \(expectedLength)"), offset: 0)
        }
        return output
    }
}
