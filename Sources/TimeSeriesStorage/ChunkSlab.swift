/// Memory for the head's open chunks: 48-byte cells cut from 48 KiB pages,
/// each holding 44 bytes of one chunk and the number of the chunk's next
/// cell. A chunk grows a cell at a time and never moves, and every chunk
/// draws from the same cells, so a freed cell serves the next chunk that
/// grows, whatever its size: a `[UInt8]` per series cost an array header and
/// an allocation (about 48 bytes) on top of the bytes and doubled as it grew,
/// and cells of several sizes strand the sizes chunks have grown out of.
///
/// `@unchecked Sendable`: it owns raw pages. Every call happens under the
/// storage engine's head lock (the slab belongs to the `Head` value that
/// lock guards), and a cell is written only by the chunk that holds it.
final class ChunkSlab: @unchecked Sendable {
    static let cellBytes = 48
    /// Chunk bytes per cell; the last four hold the next cell's number.
    static let dataBytes = 44
    private static let cellsPerPage = 1_024

    /// Pages by number; nil once a page was handed back (numbers are not reused).
    private var pages: [UnsafeMutableRawPointer?] = []
    /// Per page: its cells in use.
    private var live: [UInt16] = []
    /// Cells carved from the newest page so far.
    private var carvedInNewest = ChunkSlab.cellsPerPage
    /// Freed cells; those of pages handed back since are skipped (`stale` of them).
    private var free: [UInt32] = []
    private var stale = 0
    /// Cells in use.
    private(set) var cellCount = 0

    deinit {
        for case let page? in pages { page.deallocate() }
    }

    /// Bytes of the pages held (what the slab holds from the allocator).
    var pageBytes: Int { pages.reduce(0) { $0 + ($1 == nil ? 0 : Self.cellsPerPage * Self.cellBytes) } }

    /// A cell, reused or carved.
    func allocate() -> UInt32 {
        cellCount += 1
        while let cell = free.popLast() {
            let page = Int(cell) / Self.cellsPerPage
            if pages[page] == nil {
                stale -= 1
                continue
            }
            live[page] += 1
            return cell
        }
        if carvedInNewest == Self.cellsPerPage {
            pages.append(UnsafeMutableRawPointer.allocate(byteCount: Self.cellsPerPage * Self.cellBytes, alignment: 16))
            live.append(0)
            carvedInNewest = 0
        }
        let page = pages.count - 1
        let cell = UInt32(page * Self.cellsPerPage + carvedInNewest)
        carvedInNewest += 1
        live[page] += 1
        return cell
    }

    /// Takes a cell back; a page left with no cell in use (other than the
    /// newest, still being carved) goes back to the allocator.
    func release(_ cell: UInt32) {
        cellCount -= 1
        let page = Int(cell) / Self.cellsPerPage
        live[page] -= 1
        free.append(cell)
        guard live[page] == 0, page != pages.count - 1 else { return }
        pages[page]!.deallocate() // live cells come from pages held
        pages[page] = nil
        // Its cells are all in the free list now: stale, dropped once they are half of it.
        stale += Self.cellsPerPage
        if stale * 2 > free.count {
            let pages = self.pages
            free.removeAll { pages[Int($0) / Self.cellsPerPage] == nil }
            stale = 0
        }
    }

    /// Where a cell's chunk bytes start.
    func data(_ cell: UInt32) -> UnsafeMutableRawPointer {
        let (page, index) = Int(cell).quotientAndRemainder(dividingBy: Self.cellsPerPage)
        return pages[page]! + index * Self.cellBytes // callers hold live cells
    }

    func next(_ cell: UInt32) -> UInt32 {
        data(cell).load(fromByteOffset: Self.dataBytes, as: UInt32.self)
    }

    func setNext(_ cell: UInt32, _ next: UInt32) {
        data(cell).storeBytes(of: next, toByteOffset: Self.dataBytes, as: UInt32.self)
    }
}
