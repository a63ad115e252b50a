import BlockCodec

/// The metric store's decoders of bytes read from disk, open to the fuzz
/// targets of this package (`FuzzTargets`) without widening the types they
/// decode; errors are the expected outcome.
package enum TimeSeriesDecoderProbes {
    /// One WAL record's payload: 1 series, 2 samples, 3 and 4 a head chunk
    /// (whose samples are decoded too, as a query of the restored head would).
    package static func walRecord(kind: UInt8, _ payload: UnsafeRawBufferPointer) {
        guard case .chunk(_, let count, _, _, let bytes)? = try? WALRecord.decode(kind: kind, payload) else { return }
        bytes.withUnsafeBytes { raw in
            guard var decoder = try? HeadChunkDecoder(raw, count: count) else { return }
            while let _ = try? decoder.next() {}
        }
    }

    /// A block's index file, and every series, posting and chunk reference it lists.
    package static func blockIndex(_ bytes: [UInt8]) {
        guard let index = try? PackedBlockIndex.decode(bytes, path: "fuzz/index") else { return }
        // What a query reads of a checked index: every series' labels and chunks, every list.
        for series in index.allSeries() {
            for label in index.labels(series) { _ = index.postings(label.name, label.value) }
            _ = index.chunks(series)
        }
    }
}
