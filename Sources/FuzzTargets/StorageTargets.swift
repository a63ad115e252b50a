import BlockCodec
import DurableFiles
import LogStorage
import TimeSeriesStorage

/// What the stores read back from disk: chunks, block indexes, WAL frames and records, log chunks.
let storageTargets: [FuzzTarget] = [
    FuzzTarget("head_chunk") { input in
        // As Prometheus's FuzzXORChunk: the first byte says how many samples to ask for; the
        // chunk's bytes (its encoding byte first) follow.
        guard let count = input.first,
              var decoder = try? HeadChunkDecoder(UnsafeRawBufferPointer(rebasing: input.dropFirst()), count: Int(count) * 8)
        else { return }
        while let _ = try? decoder.next() {}
    },
    FuzzTarget("packed_chunk") { input in
        var offset = 0
        var timestamps: [Int64] = []
        var values: [Double] = []
        while offset < input.count, (try? PackedChunk.decode(input, at: &offset, timestamps: &timestamps, values: &values)) != nil {}
    },
    FuzzTarget("block_index") { input in
        TimeSeriesDecoderProbes.blockIndex(Array(input))
    },
    FuzzTarget("wal_frames") { input in
        var offset = 0
        while case .record(_, _, let next) = WALFrame.read(input, at: offset), next > offset { offset = next }
    },
    FuzzTarget("tsdb_wal_record") { input in
        guard let kind = input.first else { return }
        TimeSeriesDecoderProbes.walRecord(kind: kind, UnsafeRawBufferPointer(rebasing: input.dropFirst()))
    },
    FuzzTarget("log_wal_record") { input in
        guard let kind = input.first else { return }
        LogStorageDecoderProbes.walRecord(kind: kind, UnsafeRawBufferPointer(rebasing: input.dropFirst()))
    },
    FuzzTarget("log_chunk") { input in
        let parts = split(input, into: 3)
        LogStorageDecoderProbes.chunk(meta: parts[0], lines: parts[1], fields: parts[2])
    },
    FuzzTarget("snappy") { input in
        _ = Snappy.decompress(input, limit: 1 << 20)
    },
    FuzzTarget("inflate") { input in
        _ = Inflate.decompress(input, limit: 1 << 20)
    },
]
