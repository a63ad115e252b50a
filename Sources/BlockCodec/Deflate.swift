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

/// Inflating a request body that came gzip- or zlib-encoded (`Content-Encoding:
/// gzip` or `deflate`), to at most a given size: a small body cannot grow
/// without bound.
public enum Inflate {
    public enum Failure: Error, Sendable, Equatable {
        /// The data is not gzip or zlib, or is damaged (the zlib status).
        case corrupt(Int32)
        /// It inflates to more than the limit.
        case tooLarge(limit: Int)
    }

    /// Inflates gzip or zlib data (told by its header) to at most `limit` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) -> Result<[UInt8], Failure> {
        var stream = z_stream()
        // 15 window bits, +32: detect a gzip or zlib header.
        guard tally_inflateInit2(&stream, 15 + 32) == Z_OK else {
            return .failure(.corrupt(Z_STREAM_ERROR))
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        guard let base = input.baseAddress else { return .success([]) }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while true {
            let status = chunk.withUnsafeMutableBytes { out -> Int32 in
                stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let produced = chunk.count - Int(stream.avail_out)
            output.append(contentsOf: chunk[0..<produced])
            if output.count > limit { return .failure(.tooLarge(limit: limit)) }
            if status == Z_STREAM_END { return .success(output) }
            guard status == Z_OK else { return .failure(.corrupt(status)) }
            if stream.avail_in == 0, produced == 0 { return .failure(.corrupt(Z_BUF_ERROR)) }
        }
    }
}
