import CSnappy

/// Snappy's block format from the system's libsnappy: Loki's protobuf
/// pushes (Promtail, Grafana Alloy) are compressed with it.
public enum Snappy {
    public enum Failure: Error, Sendable, Equatable {
        case corrupt
        case tooLarge(limit: Int)
    }

    /// Decompresses a snappy block to at most `limit` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) -> Result<[UInt8], Failure> {
        guard let base = input.baseAddress?.assumingMemoryBound(to: CChar.self) else { return .success([]) }
        var length = 0
        guard snappy_uncompressed_length(base, input.count, &length) == SNAPPY_OK else { return .failure(.corrupt) }
        guard length <= limit else { return .failure(.tooLarge(limit: limit)) }
        var output = [UInt8](repeating: 0, count: length)
        var produced = length
        let status = output.withUnsafeMutableBytes { out in
            snappy_uncompress(base, input.count, out.baseAddress!.assumingMemoryBound(to: CChar.self), &produced)
        }
        guard status == SNAPPY_OK, produced == length else { return .failure(.corrupt) }
        return .success(output)
    }

    /// Compresses bytes as a snappy block (for tests and clients).
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        // An empty block is its length alone: varint 0.
        guard !input.isEmpty else { return [0] }
        var length = snappy_max_compressed_length(input.count)
        var output = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { out in
                snappy_compress(
                    source.baseAddress!.assumingMemoryBound(to: CChar.self), input.count,
                    out.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
            }
        }
        // snappy_compress fails only for too small an output, excluded by max_compressed_length.
        precondition(status == SNAPPY_OK, "snappy_compress failed")
        output.removeLast(output.count - length)
        return output
    }
}
