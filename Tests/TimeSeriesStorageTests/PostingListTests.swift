import Testing
@testable import TimeSeriesStorage

/// A label pair's slots, inline while one series has it, stay in order
/// through appends and removals.
@Suite("Posting lists")
struct PostingListTests {
    @Test func appendsAndRemovesKeepTheOrderAndTheCount() {
        var list = PostingList(7)
        #expect(list.slots == [7])
        for slot in [3, 9, 1] { list.append(slot) }
        #expect(list.slots == [7, 3, 9, 1])
        #expect(list.count == 4)
        var left = list.remove(9)
        #expect(left && list.slots == [7, 3, 1])
        left = list.remove(42)  // not there: nothing changes
        #expect(left && list.count == 3)
        _ = list.remove(7)
        left = list.remove(1)
        #expect(left && list.slots == [3])
        if case .many = list { Issue.record("one slot left should be held inline") }
        left = list.remove(3)
        #expect(!left)
    }

    @Test func aSingleSlotListEmptiesOnlyForItsOwnSlot() {
        var list = PostingList(5)
        var left = list.remove(6)
        #expect(left && list.slots == [5])
        left = list.remove(5)
        #expect(!left)
    }
}

extension PostingListTests {
    @Test func manySlotsLeaveInOnePass() {
        var list = PostingList(0)
        for slot in 1..<1_000 { list.append(slot) }
        var left = list.remove((0..<1_000).filter { $0 % 3 != 0 }.map { Int32($0) })
        #expect(left && list.slots == (0..<1_000).filter { $0 % 3 == 0 })
        left = list.remove((0..<1_000).map { Int32($0) })
        #expect(!left)
    }
}
