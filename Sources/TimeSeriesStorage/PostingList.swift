/// The head slots of the series that carry one label pair, in the order
/// they were added. Most pairs belong to one series (a series' own name,
/// its host), so one slot is held inline and only a shared pair pays for
/// an array; slots are 32-bit (the head's series column never reaches 2³¹).
enum PostingList: Sendable {
    case one(Int32)
    case many([Int32])

    init(_ slot: Int) { self = .one(Int32(truncatingIfNeeded: slot)) }

    var count: Int {
        switch self {
        case .one: 1
        case .many(let slots): slots.count
        }
    }

    mutating func append(_ slot: Int) {
        let slot = Int32(truncatingIfNeeded: slot)
        switch self {
        case .one(let first):
            self = .many([first, slot])
        case .many(var slots):
            self = .one(0)  // releases the array so the append below does not copy it
            slots.append(slot)
            self = .many(slots)
        }
    }

    /// Removes a slot; returns false when the list is left empty (drop it).
    mutating func remove(_ slot: Int) -> Bool {
        remove([Int32(truncatingIfNeeded: slot)])
    }

    /// Removes slots in one pass over the list; returns false when the list
    /// is left empty (drop it).
    mutating func remove(_ gone: [Int32]) -> Bool {
        switch self {
        case .one(let only):
            return !gone.contains(only)
        case .many(var slots):
            self = .one(0)
            if gone.count == 1 {
                slots.removeAll { $0 == gone[0] }
            } else {
                let set = Set(gone)
                slots.removeAll { set.contains($0) }
            }
            switch slots.count {
            case 0: return false
            case 1: self = .one(slots[0])
            default: self = .many(slots)
            }
            return true
        }
    }

    /// The slots as integers.
    var slots: [Int] {
        switch self {
        case .one(let only): [Int(only)]
        case .many(let slots): slots.map { Int($0) }
        }
    }
}
