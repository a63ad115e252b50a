import Testing
import BlockCodec

@Suite("CRC-32 from libz")
struct CRC32Tests {
    @Test func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func continuesAcrossPieces() {
        let whole = CRC32.checksum(Array("hello, world".utf8))
        let first = CRC32.checksum(Array("hello, ".utf8))
        let both = Array("world".utf8).withUnsafeBytes { CRC32.checksum($0, initial: first) }
        #expect(both == whole)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }
}
