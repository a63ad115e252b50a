import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import TelemetryModel

/// What the server says about itself: Prometheus's `/api/v1/status/runtimeinfo`,
/// `config` and `flags` in their shapes, tally's own `listeners` and
/// `storage`, and VictoriaMetrics's `top_queries` (the query log's most run,
/// slowest and costliest queries). The `/status` page reads these.
struct StatusRoutes: Sendable {
    let dependencies: APIDependencies

    func register(on router: Router<TallyRequestContext>) {
        router.get("/api/v1/status/top_queries") { request, _ in
            try await respond { try topQueries(request) }
        }
        guard let status = dependencies.serverStatus else { return }
        router.get("/api/v1/status/runtimeinfo") { _, _ in
            try await respond { runtimeInfo(status) }
        }
        router.get("/api/v1/status/config") { _, _ in
            try await respond {
                var json = Self.success()
                json.raw(#"{"yaml":"#)
                json.string(status.configYAML)
                json.raw("}}")
                return json
            }
        }
        router.get("/api/v1/status/flags") { _, _ in
            try await respond {
                var json = Self.success()
                json.raw("{")
                for (i, (name, value)) in status.flags.sorted(by: { $0.key < $1.key }).enumerated() {
                    if i > 0 { json.raw(",") }
                    json.string(name)
                    json.raw(":")
                    json.string(value)
                }
                json.raw("}}")
                return json
            }
        }
        router.get("/api/v1/status/listeners") { _, _ in
            try await respond { listeners(status) }
        }
        router.get("/api/v1/status/storage") { _, _ in
            let files = try await NIOThreadPool.singleton.runIfActive { status.storage() }
            return try await respond { storage(files) }
        }
    }

    static func success() -> JSONWriter {
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":"#)
        return json
    }

    static func rfc3339(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// Prometheus's fields where they mean the same here; Go's runtime ones are left out.
    private func runtimeInfo(_ status: ServerStatus) -> JSONWriter {
        var json = Self.success()
        json.raw(#"{"startTime":"#)
        json.string(Self.rfc3339(status.startTimeMillis))
        json.raw(#","CWD":"#)
        json.string(status.workingDirectory)
        json.raw(#","reloadConfigSuccess":true,"lastConfigTime":"#)
        json.string(Self.rfc3339(status.startTimeMillis))
        json.raw(#","corruptionCount":"#)
        json.int(Int64(status.corruptionCount))
        json.raw(#","storageRetention":"#)
        // Whole days as Prometheus shows its retention ("15d", not "2w1d").
        let retention = status.retentionMillis
        json.string(retention > 0 && retention % 86_400_000 == 0 ? "\(retention / 86_400_000)d" : formatDuration(retention))
        json.raw(#","dataDir":"#)
        json.string(status.dataDirectory)
        json.raw(#","configFile":"#)
        if let file = status.configFile { json.string(file) } else { json.raw("null") }
        json.raw(#","cores":"#)
        json.int(Int64(System.coreCount))
        json.raw("}}")
        return json
    }

    private func listeners(_ status: ServerStatus) -> JSONWriter {
        var json = Self.success()
        json.raw("[")
        for (i, listener) in status.listeners.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw(#"{"name":"#)
            json.string(listener.name)
            json.raw(#","transport":"#)
            json.string(listener.transport)
            json.raw(#","address":"#)
            json.string(listener.address)
            json.raw(listener.tls ? #","tls":true}"# : #","tls":false}"#)
        }
        json.raw("]}")
        return json
    }

    private func storage(_ files: StorageStatus) -> JSONWriter {
        func list(_ files: [StorageStatus.File], into json: inout JSONWriter) {
            json.raw("[")
            for (i, file) in files.enumerated() {
                if i > 0 { json.raw(",") }
                json.raw(#"{"name":"#)
                json.string(file.name)
                json.raw(#","bytes":"#)
                json.int(Int64(file.bytes))
                json.raw("}")
            }
            json.raw("]")
        }
        var json = Self.success()
        json.raw(#"{"head":{"series":"#)
        json.int(Int64(files.headSeries))
        json.raw(#","chunks":"#)
        json.int(Int64(files.headChunks))
        json.raw(#"},"wal":"#)
        list(files.walSegments, into: &json)
        json.raw(#","blocks":["#)
        for (i, block) in files.blocks.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw(#"{"ulid":"#)
            json.string(block.ulid)
            for (key, value): (StaticString, Int64) in [(#","minTime":"#, block.minTime), (#","maxTime":"#, block.maxTime), (#","series":"#, Int64(block.series)),
                                 (#","samples":"#, Int64(block.samples)), (#","bytes":"#, Int64(block.bytes)), (#","level":"#, Int64(block.level))] {
                json.raw(key)
                json.int(value)
            }
            json.raw("}")
        }
        json.raw(#"],"logWAL":"#)
        list(files.logWALSegments, into: &json)
        json.raw(#","logSegments":"#)
        list(files.logSegments, into: &json)
        json.raw("}}")
        return json
    }

    /// VictoriaMetrics's answer: `topN` (default 20) groups of the queries of
    /// the last `maxLifetime` (default 10m), by count, by average and by total
    /// duration; not in Prometheus's envelope, as VictoriaMetrics answers it.
    private func topQueries(_ request: Request) throws -> JSONWriter {
        let parameters = FormParameters(encoded: request.uri.query ?? "")
        var top = 20
        if let text = parameters["topN"], !text.isEmpty {
            guard let value = Int(text), value > 0 else { throw APIError.badParameter("topN", "not a positive number: \"\(text)\"") }
            top = value
        }
        var lifetime: Int64 = 600_000
        if let text = parameters["maxLifetime"], !text.isEmpty {
            guard let value = try? parseDurationOrSeconds(text), value > 0 else {
                throw APIError.badParameter("maxLifetime", "cannot parse \"\(text)\" to a valid duration")
            }
            lifetime = value
        }
        let log = dependencies.queryLog
        let groups = log.top(top, since: dependencies.clock.nowMillis().saturatingSubtracting(lifetime))
        var json = JSONWriter()
        json.raw(#"{"topN":"#)
        json.string(String(top))
        json.raw(#","maxLifetime":"#)
        json.string(formatDuration(lifetime))
        json.raw(#","lastQueriesCount":"#)
        json.int(Int64(log.capacity))
        json.raw(#","minQueryDuration":"#)
        json.string(formatDuration(log.minimumDuration.components.seconds * 1000 + log.minimumDuration.components.attoseconds / 1_000_000_000_000_000))
        for (name, list): (StaticString, [QueryLog.Group]) in [(#","topByCount":["#, groups.byCount), (#","topByAvgDuration":["#, groups.byAverage),
                             (#","topBySumDuration":["#, groups.bySum)] {
            json.raw(name)
            for (i, group) in list.enumerated() {
                if i > 0 { json.raw(",") }
                json.raw(#"{"language":"#)
                json.string(group.language)
                json.raw(#","query":"#)
                json.string(group.query)
                json.raw(#","timeRangeSeconds":"#)
                json.int(group.rangeSeconds)
                json.raw(#","count":"#)
                json.int(Int64(group.count))
                json.raw(#","avgDurationSeconds":"#)
                json.unescaped(String(format: "%.6f", group.avgDurationSeconds))
                json.raw(#","sumDurationSeconds":"#)
                json.unescaped(String(format: "%.6f", group.sumDurationSeconds))
                json.raw("}")
            }
            json.raw("]")
        }
        json.raw("}")
        return json
    }
}
