import BlockCodec
import Foundation
import Hummingbird
import LogQL
import LogStorage
import LogWire
import NIOCore
import NIOPosix
import Synchronization
import TelemetryModel

/// Loki's HTTP API over the log store, so Grafana's Loki data source, logcli
/// and Loki's push clients work unchanged: queries, labels, series, index
/// stats, push. Errors are plain text with Loki's status codes.
struct LokiRoutes: Sendable {
    let dependencies: APIDependencies
    let store: LogStore
    let gate: QueryGate
    let pushGate: PushGate

    init(dependencies: APIDependencies, store: LogStore) {
        self.dependencies = dependencies
        self.store = store
        gate = QueryGate(limit: dependencies.maxConcurrentQueries)
        pushGate = PushGate(limit: dependencies.maxConcurrentPushes)
    }

    func register(on router: Router<TallyRequestContext>) {
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/loki/api/v1/query_range", method: method) { request, _ in
                try await answer { try await queryRange(request) }
            }
            router.on("/loki/api/v1/query", method: method) { request, _ in
                try await answer { try await query(request) }
            }
            router.on("/loki/api/v1/labels", method: method) { request, _ in
                try await answer { try await labels(request) }
            }
            router.on("/loki/api/v1/label/{name}/values", method: method) { request, context in
                let name = context.parameters.get("name") ?? ""
                return try await answer { try await labelValues(request, name: name) }
            }
            router.on("/loki/api/v1/series", method: method) { request, _ in
                try await answer { try await series(request) }
            }
            router.on("/loki/api/v1/index/stats", method: method) { request, _ in
                try await answer { try await indexStats(request) }
            }
        }
        // A tail request that reaches the router was not upgraded: say why.
        router.get("\(LokiTail.path)") { request, _ in
            let tail = LokiTail(dependencies: dependencies)
            let problem: String? = tail.flatMap { tail in
                if case .failure(let error) = tail.parse(request.uri.query ?? "", now: dependencies.clock.nowNanos()) { return error.message }
                return nil
            }
            return textResponse(.badRequest, problem ?? "/loki/api/v1/tail streams over a WebSocket: send an Upgrade: websocket request")
        }
        router.post("/loki/api/v1/push") { request, _ in
            try await pushAnswer { try await push(request) }
        }
        router.post("/api/v1/logs") { request, _ in
            try await pushAnswer { try await postLines(request) }
        }
    }

    // MARK: Queries

    /// A Loki error: plain text and a status.
    struct LokiError: Error {
        var status: HTTPResponse.Status
        var message: String

        static func bad(_ message: String) -> LokiError { LokiError(status: .badRequest, message: message) }
    }

    func answer(_ body: () async throws -> JSONWriter) async throws -> Response {
        do {
            return jsonResponse(.ok, try await body().bytes)
        } catch let error as LokiError {
            return textResponse(error.status, error.message)
        } catch let error as LogQLError {
            return textResponse(Self.status(error), error.message)
        } catch let error as APIError {
            return textResponse(error.status, error.message)
        } catch let error as HTTPError {
            throw error
        } catch {
            return textResponse(.internalServerError, "\(error)")
        }
    }

    static func status(_ error: LogQLError) -> HTTPResponse.Status {
        switch error.kind {
        case .parse, .invalid, .limit: .badRequest
        case .storage: .internalServerError
        }
    }

    private func parameters(_ request: Request) async throws -> FormParameters {
        try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
    }

    /// `start` and `end` (or `since`), as Loki defaults them: the last hour.
    private func range(_ parameters: FormParameters) throws -> (start: Int64, end: Int64) {
        let now = dependencies.clock.nowNanos()
        let end = try time(parameters, "end") ?? now
        let since = try parameters["since"].flatMap { text -> Int64? in
            guard !text.isEmpty else { return nil }
            guard let nanos = LokiParameters.duration(text) else { throw LokiError.bad("invalid since: \"\(text)\"") }
            return nanos
        } ?? 3_600_000_000_000
        let start = try time(parameters, "start") ?? min(end, now).saturatingSubtracting(since)
        return (start, end)
    }

    private func time(_ parameters: FormParameters, _ name: String) throws -> Int64? {
        guard let text = parameters[name], !text.isEmpty else { return nil }
        guard let nanos = LokiParameters.time(text) else { throw LokiError.bad("invalid \(name): cannot parse \"\(text)\" as a timestamp") }
        return nanos
    }

    private func parse(_ parameters: FormParameters) throws -> LogQLExpr {
        guard let text = parameters["query"], !text.isEmpty else { throw LokiError.bad("query parameter is missing") }
        return try LogQLParser.parse(text)
    }

    private func queryRange(_ request: Request) async throws -> JSONWriter {
        let parameters = try await parameters(request)
        let expr = try parse(parameters)
        let (start, end) = try range(parameters)
        guard end >= start else { throw LokiError.bad("end timestamp must not be before or equal to start time") }
        let limit = try self.limit(parameters)
        let backward = try direction(parameters)
        var step = Int64(max(end.saturatingSubtracting(start) / 250 / 1_000_000_000, 1)) * 1_000_000_000
        if let text = parameters["step"], !text.isEmpty {
            guard let nanos = LokiParameters.duration(text), nanos > 0 else {
                throw LokiError.bad("invalid step: zero or negative query resolution step widths are not accepted. Try a positive integer")
            }
            step = nanos
        }
        let engine = LogQLEngine(store: store, limits: dependencies.logLimits)
        let resolution = step
        let asked = ContinuousClock.now
        let log = logQuery(parameters, rangeSeconds: end.saturatingSubtracting(start) / 1_000_000_000)
        return try await gate.run(timeout: dependencies.logLimits.timeout) { () throws -> JSONWriter in
            let started = ContinuousClock.now
            defer { log(started) }
            if case .logs(let selector) = expr {
                let streams = try engine.logs(selector, start: start, end: end, limit: limit, backward: backward)
                return Self.render(streams, stats: QueryStats(asked: asked, started: started, entries: streams.reduce(0) { $0 + $1.entries.count }))
            }
            let result = try engine.range(expr, start: start, end: end, step: resolution)
            return Self.render(result, stats: QueryStats(asked: asked, started: started, entries: result.pointCount))
        }
    }

    private func query(_ request: Request) async throws -> JSONWriter {
        let parameters = try await parameters(request)
        let expr = try parse(parameters)
        if expr.isLogQuery {
            throw LokiError.bad("log queries are not supported as an instant query type, please change your query to a range query type")
        }
        let time = try time(parameters, "time") ?? dependencies.clock.nowNanos()
        let engine = LogQLEngine(store: store, limits: dependencies.logLimits)
        let asked = ContinuousClock.now
        let log = logQuery(parameters, rangeSeconds: 0)
        return try await gate.run(timeout: dependencies.logLimits.timeout) { () throws -> JSONWriter in
            let started = ContinuousClock.now
            defer { log(started) }
            let result = try engine.instant(expr, at: time)
            return Self.render(result, stats: QueryStats(asked: asked, started: started, entries: result.pointCount))
        }
    }

    /// Puts a query that ran (answered or failed) in the query log, with the time since it started.
    private func logQuery(_ parameters: FormParameters, rangeSeconds: Int64) -> @Sendable (ContinuousClock.Instant) -> Void {
        let (queryLog, clock, text) = (dependencies.queryLog, dependencies.clock, parameters["query"] ?? "")
        return { started in
            queryLog.record(language: "logql", query: text, rangeSeconds: rangeSeconds, duration: ContinuousClock.now - started, at: clock.nowMillis())
        }
    }

    private func limit(_ parameters: FormParameters) throws -> Int {
        guard let text = parameters["limit"], !text.isEmpty else { return 100 }
        guard let value = Int(text), value > 0 else { throw LokiError.bad("limit must be a positive value") }
        return value
    }

    private func direction(_ parameters: FormParameters) throws -> Bool {
        guard let text = parameters["direction"], !text.isEmpty else { return true }
        switch text.lowercased() {
        case "backward": return true
        case "forward": return false
        default: throw LokiError.bad("invalid direction \"\(text)\": expected forward or backward")
        }
    }

    /// The stream selector of `query` or `match[]`, when given.
    private func selector(_ text: String?) throws -> [LabelMatcher] {
        guard let text, !text.isEmpty, text != "{}" else { return [] }
        guard case .logs(let selector) = try LogQLParser.parse(text) else { throw LokiError.bad("expected a stream selector, got \"\(text)\"") }
        return selector.matchers
    }

    private func labels(_ request: Request) async throws -> JSONWriter {
        let parameters = try await parameters(request)
        let (start, end) = try range(parameters)
        let matchers = try selector(parameters["query"])
        let store = self.store
        let names = try await NIOThreadPool.singleton.runIfActive {
            matchers.isEmpty
                ? store.labelNames(start: start, end: end)
                : Array(Set(store.streamLabels(matchers, start: start, end: end).flatMap { $0.map(\.name) })).sorted()
        }
        return Self.stringList(names)
    }

    private func labelValues(_ request: Request, name: String) async throws -> JSONWriter {
        let parameters = try await parameters(request)
        let (start, end) = try range(parameters)
        let matchers = try selector(parameters["query"])
        let store = self.store
        return Self.stringList(try await NIOThreadPool.singleton.runIfActive {
            store.labelValues(name, matchers: matchers, start: start, end: end)
        })
    }

    private func series(_ request: Request) async throws -> JSONWriter {
        let parameters = try await parameters(request)
        let (start, end) = try range(parameters)
        let texts = parameters.all("match[]") + parameters.all("match")
        let selectors = try (texts.isEmpty ? ["{}"] : texts).map { try selector($0) }
        let store = self.store
        let found = try await NIOThreadPool.singleton.runIfActive {
            var found = Set<Labels>()
            for matchers in selectors { found.formUnion(store.streamLabels(matchers, start: start, end: end)) }
            return found
        }
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":["#)
        for (i, labels) in found.sorted(by: { $0.description < $1.description }).enumerated() {
            if i > 0 { json.raw(",") }
            json.labels(labels.map { ($0.name, $0.value) })
        }
        json.raw("]}")
        return json
    }

    private func indexStats(_ request: Request) async throws -> JSONWriter {
        let parameters = try await parameters(request)
        let (start, end) = try range(parameters)
        let matchers = try selector(parameters["query"])
        let store = self.store
        let selections = try await NIOThreadPool.singleton.runIfActive { try store.select(matchers, start: start, end: end) }
        var json = JSONWriter()
        json.raw(#"{"streams":"#)
        json.int(Int64(selections.count))
        json.raw(#","chunks":"#)
        json.int(Int64(selections.reduce(0) { $0 + $1.chunkCount }))
        json.raw(#","bytes":"#)
        json.int(Int64(selections.reduce(0) { $0 + $1.rawBytes }))
        json.raw(#","entries":"#)
        json.int(Int64(selections.reduce(0) { $0 + $1.entryCount }))
        json.raw("}")
        return json
    }

    // MARK: Rendering

    static func stringList(_ values: [String]) -> JSONWriter {
        var json = JSONWriter()
        // Loki leaves `data` out when there is nothing.
        guard !values.isEmpty else {
            json.raw(#"{"status":"success"}"#)
            return json
        }
        json.raw(#"{"status":"success","data":["#)
        for (i, value) in values.enumerated() {
            if i > 0 { json.raw(",") }
            json.string(value)
        }
        json.raw("]}")
        return json
    }

    /// What Loki's `data.stats.summary` reports that tally measures too: the
    /// seconds a query waited for a slot and ran, and the entries (or points) it returned.
    struct QueryStats {
        var queueSeconds: Double
        var execSeconds: Double
        var entries: Int

        init(asked: ContinuousClock.Instant, started: ContinuousClock.Instant, entries: Int) {
            queueSeconds = Self.seconds(started - asked)
            execSeconds = Self.seconds(.now - started)
            self.entries = entries
        }

        private static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }

        func write(to json: inout JSONWriter) {
            json.raw(#","stats":{"summary":{"execTime":"#)
            json.unescaped(String(execSeconds))
            json.raw(#","queueTime":"#)
            json.unescaped(String(queueSeconds))
            json.raw(#","totalEntriesReturned":"#)
            json.int(Int64(entries))
            json.raw("}}")
        }
    }

    static func render(_ streams: [LogStreamResult], stats: QueryStats) -> JSONWriter {
        var json = JSONWriter(capacity: 64 * 1024)
        json.raw(#"{"status":"success","data":{"resultType":"streams","result":"#)
        json.lokiStreams(streams)
        stats.write(to: &json)
        json.raw("}}")
        return json
    }

    static func render(_ result: LogQLResult, stats: QueryStats) -> JSONWriter {
        var json = JSONWriter(capacity: 16 * 1024)
        switch result {
        case .streams(let streams):
            return render(streams, stats: stats)
        case .matrix(let series):
            json.raw(#"{"status":"success","data":{"resultType":"matrix","result":["#)
            for (i, s) in series.enumerated() {
                if i > 0 { json.raw(",") }
                json.raw(#"{"metric":"#)
                json.labels(s.labels.map { ($0.name, $0.value) })
                json.raw(#","values":["#)
                for (k, (time, value)) in s.points.enumerated() {
                    if k > 0 { json.raw(",") }
                    json.point(floorDivide(time, 1_000_000), value)
                }
                json.raw("]}")
            }
        case .vector(let time, let samples):
            json.raw(#"{"status":"success","data":{"resultType":"vector","result":["#)
            for (i, sample) in samples.enumerated() {
                if i > 0 { json.raw(",") }
                json.raw(#"{"metric":"#)
                json.labels(sample.labels.map { ($0.name, $0.value) })
                json.raw(#","value":"#)
                json.point(floorDivide(time, 1_000_000), sample.value)
                json.raw("}")
            }
        case .scalar(let time, let value):
            json.raw(#"{"status":"success","data":{"resultType":"scalar","result":"#)
            json.point(floorDivide(time, 1_000_000), value)
            stats.write(to: &json)
            json.raw("}}")
            return json
        }
        json.raw("]")
        stats.write(to: &json)
        json.raw("}}")
        return json
    }
}

func textResponse(_ status: HTTPResponse.Status, _ text: String) -> Response {
    var buffer = ByteBufferAllocator().buffer(capacity: text.utf8.count + 1)
    buffer.writeString(text)
    buffer.writeString("\n")
    var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
    // Every 429 here is a moment's congestion: senders (Promtail, Alloy) retry after this.
    if status == .tooManyRequests { headers[.retryAfter] = "1" }
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
}

extension JSONWriter {
    /// `[{"stream":{…},"values":[["<ns>","line"],…]},…]`, as Loki writes streams.
    mutating func lokiStreams(_ streams: [LogStreamResult]) {
        raw("[")
        for (i, stream) in streams.enumerated() {
            if i > 0 { raw(",") }
            raw(#"{"stream":"#)
            labels(stream.labels.map { ($0.name, $0.value) })
            raw(#","values":["#)
            for (k, (time, line)) in stream.entries.enumerated() {
                if k > 0 { raw(",") }
                raw(#"[""#)
                int(time)
                raw(#"","#)
                string(line)
                raw("]")
            }
            raw("]}")
        }
        raw("]")
    }
}
