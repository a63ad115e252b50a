import DurableFiles
import Testing

/// The allocator figures the maintenance round reads to decide on handing
/// freed memory back.
@Suite("Allocator figures", .serialized)
struct AllocatorTuningTests {
    @Test func residentAnonymousMemoryIsRead() throws {
        let resident = try #require(AllocatorTuning.residentAnonymousBytes())
        #expect(resident > 1 << 20)
    }

    @Test func liveAllocationsShowInTheHeapFigureAndLeaveIt() {
        let before = AllocatorTuning.heap().inUse
        // 256 MiB in 64 KiB blocks, each touched: live until released. The margins leave room for
        // what tests running beside this one allocate and free meanwhile.
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<4096 {
            let block = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 1, count: 64 << 10)
            blocks.append(block)
        }
        let during = AllocatorTuning.heap().inUse
        for block in blocks { block.deallocate() }
        let after = AllocatorTuning.heap().inUse
        #expect(during - before >= 128 << 20, "\(before) → \(during)")
        #expect(during - after >= 128 << 20, "\(during) → \(after)")
    }

    /// Freed memory comes back to the system: resident anonymous memory falls after a release.
    @Test func releasingFreeMemoryLowersTheResidentFigure() throws {
        let blocks = heapWithHoles()
        let held = try #require(AllocatorTuning.residentAnonymousBytes())
        AllocatorTuning.releaseFreeMemory()
        let released = try #require(AllocatorTuning.residentAnonymousBytes())
        for block in blocks { block.deallocate() }
        #expect(held - released >= 64 << 20, "128 MiB freed in holes: \(held) → \(released)")
    }

    /// A maintenance round hands freed memory back once more than 64 MiB of
    /// it is resident: 128 MiB of holes are not kept until the next burst.
    @Test func aRoundHandsBackMoreThanTheAmountKeptBetweenRounds() throws {
        let blocks = heapWithHoles()
        let held = try #require(AllocatorTuning.residentAnonymousBytes())
        let trimmed = AllocatorTuning.releaseExcessFreeMemory()
        let released = try #require(AllocatorTuning.residentAnonymousBytes())
        for block in blocks { block.deallocate() }
        #expect(AllocatorTuning.keptBetweenRoundsBytes < 128 << 20)
        #expect(trimmed && held - released >= 64 << 20, "\(held) → \(released)")
    }

    /// 256 MiB allocated in 64 KiB blocks, each touched, then every other
    /// one freed: 128 MiB of holes inside the heap, which glibc keeps
    /// resident by itself. Returns the blocks still live.
    private func heapWithHoles() -> [UnsafeMutableRawPointer] {
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<4096 {
            let block = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 1, count: 64 << 10)
            blocks.append(block)
        }
        for (i, block) in blocks.enumerated() where i % 2 == 0 { block.deallocate() }
        return blocks.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }
}
