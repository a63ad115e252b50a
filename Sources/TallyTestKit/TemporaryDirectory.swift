import Foundation

/// A fresh directory under the system's temporary directory, removed by
/// `remove()` (tests call it in a `defer`).
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "tally-test") throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
