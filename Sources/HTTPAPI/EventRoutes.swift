import Hummingbird
import TelemetryModel

/// `GET /api/v1/events?start=&end=&limit=`: the DogStatsD events and service
/// checks received, oldest first, in Prometheus's success envelope.
struct EventRoutes: Sendable {
    let dependencies: APIDependencies

    func register(on router: Router<TallyRequestContext>) {
        router.get("/api/v1/events") { request, _ in
            try await respond { try await events(request) }
        }
    }

    private func events(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        let start = try parameters.time("start", default: TimeBounds.min)
        let end = try parameters.time("end", default: TimeBounds.max)
        guard end >= start else { throw APIError.badParameter("end", "end timestamp must not be before start time") }
        var limit = dependencies.maxEventsPerAnswer
        if let text = parameters["limit"] {
            guard let value = Int(text), value > 0 else { throw APIError.badParameter("limit", "must be a positive integer") }
            limit = min(value, limit)
        }
        let found: [TelemetryEvent]
        do throws(StoredDataError) {
            found = try dependencies.events.events(start: start, end: end, limit: limit)
        } catch {
            throw APIError(type: .internalError, message: error.message)
        }
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":["#)
        for (k, event) in found.enumerated() {
            if k > 0 { json.raw(",") }
            json.raw(#"{"type":"#)
            json.string(event.kind.rawValue)
            json.raw(#","timestamp":"#)
            json.timestamp(event.timestamp)
            json.raw(#","title":"#)
            json.string(event.title)
            json.raw(#","text":"#)
            json.string(event.text)
            for (key, value) in [("hostname", event.hostname), ("aggregation_key", event.aggregationKey),
                                 ("priority", event.priority), ("source_type", event.sourceType),
                                 ("alert_type", event.alertType)] {
                if let value {
                    json.raw(",")
                    json.string(key)
                    json.raw(":")
                    json.string(value)
                }
            }
            if let status = event.status {
                json.raw(#","status":"#)
                json.int(Int64(status))
            }
            json.raw(#","tags":"#)
            json.labels(event.tags.map { ($0.name, $0.value) })
            json.raw("}")
        }
        json.raw("]}")
        return json
    }
}
