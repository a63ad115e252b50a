import Foundation
import Hummingbird
import LogStorage
import LogWire
import NIOCore
import NIOPosix
import Retrospective
import TelemetryModel

/// `POST /api/v1/events` (deployments and incidents from a pipeline, stored
/// as log records), `GET /api/v1/report/daily?date=` (the retrospective as
/// JSON) and `GET /report/daily?date=` (as a page). docs/events.md and
/// docs/retrospective.md.
struct RetrospectiveRoutes: Sendable {
    let dependencies: APIDependencies
    let store: LogStore

    func register(on router: Router<TallyRequestContext>) {
        router.post("/api/v1/events") { request, _ in
            try await respond { try await postEvents(request) }
        }
        router.get("/report/daily") { request, _ in
            do {
                let report = try await dailyReport(request)
                var buffer = ByteBufferAllocator().buffer(capacity: 64 * 1024)
                buffer.writeString(HTMLReport.render(report))
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: buffer))
            } catch let error as APIError {
                return textResponse(error.status, error.message)
            }
        }
        router.get("/api/v1/report/daily") { request, _ in
            do {
                let report = try await dailyReport(request)
                var buffer = ByteBufferAllocator().buffer(capacity: 64 * 1024)
                buffer.writeBytes(report.json())
                return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
            } catch let error as APIError {
                return errorResponse(error)
            }
        }
    }

    /// One event or an array of them; every one is checked before any is stored.
    private func postEvents(_ request: Request) async throws -> JSONWriter {
        var request = request
        let body = try await request.limitedBody(upTo: dependencies.maxBodyBytes)
        let now = dependencies.clock.nowMillis()
        let labels = dependencies.logLabels
        let batch = try await NIOThreadPool.singleton.runIfActive { () throws -> LogBatch in
            let root: Any
            do {
                root = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
            } catch {
                throw APIError(type: .badData, message: "the body is not JSON: \(error.localizedDescription)")
            }
            let objects: [Any] = (root as? [Any]) ?? [root]
            guard !objects.isEmpty else { throw APIError(type: .badData, message: "no event in the body") }
            var problems: [String] = []
            var lines: [(time: Int64, line: String)] = []
            for (i, item) in objects.enumerated() {
                guard let object = item as? [String: Any] else {
                    problems.append("events[\(i)]: expected an object")
                    continue
                }
                let fields = object.mapValues(Self.text)
                let event: DeliveryEvent
                switch DeliveryEvent.parse(fields, time: now) {
                case .success(let parsed): event = parsed
                case .failure(let error):
                    problems.append(error.described(prefix: "events[\(i)]."))
                    continue
                }
                let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
                lines.append((event.time, String(decoding: data, as: UTF8.self)))
            }
            // Oldest first, so that a batch is in order within each stream.
            lines.sort { $0.time < $1.time }
            guard problems.isEmpty else { throw APIError(type: .badData, message: problems.joined(separator: "; ")) }
            let decoder = LogDecoder(config: labels)
            var batch = LogBatch()
            var log = DecodedLog()
            for (_, line) in lines {
                Array(line.utf8).withUnsafeBytes { decoder.decodeJSONLine($0, into: &log) }
                batch.append(log)
            }
            return batch
        }
        let store = self.store
        let nanos = dependencies.clock.nowNanos()
        let result: LogAppendResult
        do {
            result = try await NIOThreadPool.singleton.runIfActive { try store.append(batch, now: nanos) }
        } catch let failure as LogStore.AppendFailure {
            throw APIError(type: .internalError, message: failure.description)
        }
        guard result.rejectedCount == 0 else {
            throw APIError(type: .badData, message: "\(result.rejectedCount) events refused: \(result.firstRejection ?? "")")
        }
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":{"accepted":"#)
        json.int(Int64(result.accepted))
        json.raw("}}")
        return json
    }

    /// A JSON value as the string an event field holds.
    private static func text(_ value: Any) -> String {
        switch value {
        case let string as String: return string
        case let flag as Bool: return flag ? "true" : "false"
        case let number as NSNumber: return number.stringValue
        default:
            guard JSONSerialization.isValidJSONObject(value), let data = try? JSONSerialization.data(withJSONObject: value) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    private func dailyReport(_ request: Request) async throws -> DailyReport {
        let parameters = FormParameters(encoded: request.uri.query ?? "")
        let config = dependencies.report
        let now = dependencies.clock.nowMillis()
        let day: ReportDay
        if let text = parameters["date"], !text.isEmpty {
            do {
                day = try ReportDay(text, timeZone: config.timeZone, now: now)
            } catch {
                throw APIError.badParameter("date", error.description)
            }
        } else {
            day = ReportDay(yesterdayOf: now, timeZone: config.timeZone)
        }
        let store = self.store
        let querier = dependencies.querier
        let sketches = dependencies.sketches
        return try await NIOThreadPool.singleton.runIfActive {
            do throws(StoredDataError) {
                return try DailyReportMaker(store: store, querier: querier, sketches: sketches, config: config).report(for: day, now: now)
            } catch {
                throw APIError(type: .internalError, message: "the report cannot be made: \(error.message)")
            }
        }
    }
}
