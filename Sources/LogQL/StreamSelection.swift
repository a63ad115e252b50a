import DurableFiles
import LogStorage
import TelemetryModel

extension LogStore {
    /// The store's selection for a query, its storage failure (a damaged
    /// segment over the range) turned into the query's error.
    func streams(_ matchers: [LabelMatcher], start: Int64, end: Int64) throws(LogQLError) -> [LogStreamSelection] {
        do throws(StorageError) {
            return try select(matchers, start: start, end: end)
        } catch {
            throw LogQLError(kind: .storage, message: "\(error)")
        }
    }
}
