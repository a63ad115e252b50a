/// Memory for the head's open chunks: cells of a few dozen sizes (each
/// about a quarter larger than the one before) carved from 64 KiB pages. A
/// series' chunk lives in one cell and moves to the next size when it fills;
/// freed cells are reused by the next chunk of their size. A `[UInt8]` per
/// series cost an array header and an allocation (about 48 bytes) on top
/// of the bytes, and doubled as it grew.
///
/// `@unchecked Sendable`: it owns raw pages. Every call happens under the
/// storage engine's head lock (the slab belongs to the `Head` value that
/// lock guards), and a cell is written only by the series that holds it.
final class ChunkSlab: @unchecked Sendable {
    /// Cell sizes in bytes; the last holds the longest head chunk.
    static let sizes: [Int] = [
        32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1_024, 1_280, 1_536, 2_048, 2_560,
        3_072, 4_096, 5_120, 6_144, 8_192, 10_240, 12_288, 16_384, 20_480, 24_576, 32_768, 40_960, 49_152, 65_536,
    ]
    private static let pageBytes = 1 << 16

    private struct SizeClass {
        let size: Int
        let perPage: Int
        /// Pages by number; nil once a page was handed back (numbers are not reused).
        var pages: [UnsafeMutableRawPointer?] = []
        /// Per page: its cells in use.
        var live: [UInt16] = []
        /// Cells carved from the newest page so far.
        var carvedInNewest = 0
        /// Freed cells; those of pages handed back since are skipped (`stale` of them).
        var free: [UInt32] = []
        var stale = 0
    }

    private var classes = ChunkSlab.sizes.map { SizeClass(size: $0, perPage: max(1, ChunkSlab.pageBytes / $0)) }
    /// Pages held, for figures.
    private(set) var pageCount = 0

    init() {
        precondition(Self.sizes.last! >= HeadChunkRef.maxLength, "the largest cell holds the longest chunk")
    }

    deinit {
        for sizeClass in classes { for case let page? in sizeClass.pages { page.deallocate() } }
    }

    /// The smallest size class whose cells hold `bytes`.
    static func sizeClass(holding bytes: Int) -> Int {
        sizes.firstIndex { $0 >= bytes } ?? sizes.count - 1
    }

    static func size(of sizeClass: Int) -> Int { sizes[sizeClass] }

    /// A cell of the class, reused or carved.
    func allocate(_ sizeClass: Int) -> UInt32 {
        let perPage = classes[sizeClass].perPage
        while let cell = classes[sizeClass].free.popLast() {
            let page = Int(cell) / perPage
            if classes[sizeClass].pages[page] == nil {
                classes[sizeClass].stale -= 1
                continue
            }
            classes[sizeClass].live[page] += 1
            return cell
        }
        if classes[sizeClass].pages.isEmpty || classes[sizeClass].carvedInNewest == perPage {
            classes[sizeClass].pages.append(UnsafeMutableRawPointer.allocate(byteCount: Self.pageBytes, alignment: 16))
            classes[sizeClass].live.append(0)
            classes[sizeClass].carvedInNewest = 0
            pageCount += 1
        }
        let page = classes[sizeClass].pages.count - 1
        let cell = UInt32(page * perPage + classes[sizeClass].carvedInNewest)
        classes[sizeClass].carvedInNewest += 1
        classes[sizeClass].live[page] += 1
        return cell
    }

    /// Takes a cell back; a page left with no cell in use (other than the
    /// newest, still being carved) goes back to the allocator, so chunks
    /// that all grow out of one size together do not leave it full of
    /// free cells.
    func release(_ cell: UInt32, _ sizeClass: Int) {
        let perPage = classes[sizeClass].perPage
        let page = Int(cell) / perPage
        classes[sizeClass].live[page] -= 1
        classes[sizeClass].free.append(cell)
        guard classes[sizeClass].live[page] == 0, page != classes[sizeClass].pages.count - 1 else { return }
        classes[sizeClass].pages[page]!.deallocate() // live cells come from pages held
        classes[sizeClass].pages[page] = nil
        pageCount -= 1
        // Its cells are all in the free list now: stale, dropped once they are half of it.
        classes[sizeClass].stale += perPage
        if classes[sizeClass].stale * 2 > classes[sizeClass].free.count {
            let pages = classes[sizeClass].pages
            classes[sizeClass].free.removeAll { pages[Int($0) / perPage] == nil }
            classes[sizeClass].stale = 0
        }
    }

    /// Where a cell's bytes start.
    func address(_ cell: UInt32, _ sizeClass: Int) -> UnsafeMutableRawPointer {
        let perPage = classes[sizeClass].perPage
        let (page, index) = Int(cell).quotientAndRemainder(dividingBy: perPage)
        return classes[sizeClass].pages[page]! + index * classes[sizeClass].size // callers hold live cells
    }

    /// Bytes of the pages held (what the slab holds from the allocator).
    var pageBytes: Int { pageCount * Self.pageBytes }

    /// Bytes of the cells in use.
    var cellBytes: Int {
        classes.reduce(0) { $0 + $1.live.reduce(0) { $0 + Int($1) } * $1.size }
    }
}
