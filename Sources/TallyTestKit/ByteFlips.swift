import Foundation

/// Flips one bit in each byte of the file at `path`, one byte at a time,
/// and asks `found` after each flip whether the damage was seen; returns the
/// offsets whose damage went unseen. The file is put back as it was. For
/// tests that prove a checker reads every byte of a file format.
public func byteFlipsUnseen(in path: String, found: () throws -> Bool) throws -> [Int] {
    let url = URL(fileURLWithPath: path)
    let original = try [UInt8](Data(contentsOf: url))
    defer { try? Data(original).write(to: url) }
    var unseen: [Int] = []
    for position in original.indices {
        var damaged = original
        damaged[position] ^= 0x08
        try Data(damaged).write(to: url)
        if try !found() { unseen.append(position) }
    }
    return unseen
}
