import BlockCodec
import DurableFiles
import Foundation
import TallyTestKit
import Testing
@testable import TimeSeriesStorage

@Suite("Head chunk file")
struct HeadChunkFileTests {
    private func chunk(_ seed: Int, samples: Int = 50) -> HeadChunk {
        var chunk = HeadChunk(integers: false) // sizes as the segment tests expect
        for i in 0..<samples { chunk.append(t0 + Int64(i) * 1_000, Double(seed * 7 + i * i)) }
        return chunk
    }

    @Test func chunksReadBackFromTheBufferAndFromTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try HeadChunkFile(directory: dir.path + "/chunks_head", segmentBytes: 1 << 16, flushBytes: 4_096)
        var stored: [(HeadChunkRef, [UInt8])] = []
        for seed in 0..<1_000 {
            let c = chunk(seed)
            stored.append((file.append(c.bytes, count: c.count, minTime: c.minTime, maxTime: c.maxTime), c.bytes))
        }
        // Several segments were written; the newest chunks may still be in the buffer.
        #expect(Set(stored.map(\.0.segment)).count > 1)
        let copies = file.copies(of: stored.map(\.0))
        #expect(copies.count == stored.count)
        for (copy, (ref, bytes)) in zip(copies, stored) {
            #expect(try file.bytes(of: copy) == bytes)
            #expect(copy.count == 50 && copy.minTime == t0 && ref.maxTime == t0 + 49_000)
        }
    }

    @Test func aSegmentIsDeletedOnceEveryChunkInItIsReleasedButStaysReadableToHolders() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/chunks_head"
        let file = try HeadChunkFile(directory: path, segmentBytes: 1 << 16, flushBytes: 1)
        var refs: [HeadChunkRef] = []
        while refs.last?.segment ?? 1 < 3 {
            let c = chunk(refs.count)
            refs.append(file.append(c.bytes, count: c.count, minTime: c.minTime, maxTime: c.maxTime))
        }
        let first = refs.filter { $0.segment == 1 }
        let held = file.copies(of: first.prefix(1))
        for ref in first { file.release(ref) }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        #expect(names == ["00000002", "00000003"])
        // A query that copied a reference before the deletion still reads it.
        #expect(try file.bytes(of: held[0]) == chunk(0).bytes)
        #expect(file.copies(of: first).isEmpty)
    }

    @Test func aDamagedChunkFailsItsChecksum() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/chunks_head"
        let file = try HeadChunkFile(directory: path, flushBytes: 1)
        let c = chunk(1)
        let ref = file.append(c.bytes, count: c.count, minTime: c.minTime, maxTime: c.maxTime)
        let segment = path + "/00000001"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment)))
        bytes[ref.offset + 10] ^= 0x04
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        #expect {
            try file.bytes(of: file.copies(of: [ref])[0])
        } throws: { error in
            guard let error = error as? StorageError, case .corrupt = error.code else { return false }
            return error.offset == ref.offset
        }
    }

    @Test func startingEmptiesTheDirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/chunks_head"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path + "/00000007"))
        _ = try HeadChunkFile(directory: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["00000001"])
    }
}
