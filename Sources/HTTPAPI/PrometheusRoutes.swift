import Hummingbird
import NIOCore
import NIOPosix
import PromQL
import TelemetryModel

/// The Prometheus HTTP API (`/api/v1/…`) over the series querier: selectors
/// only for now, with Prometheus's parameters, JSON shapes and errors.
struct PrometheusRoutes: Sendable {
    let dependencies: APIDependencies
    let gate: QueryGate

    init(dependencies: APIDependencies) {
        self.dependencies = dependencies
        gate = QueryGate(limit: dependencies.maxConcurrentQueries)
    }

    func register(on router: Router<TallyRequestContext>) {
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/api/v1/query", method: method) { request, _ in
                try await respond { try await query(request) }
            }
            router.on("/api/v1/query_range", method: method) { request, _ in
                try await respond { try await queryRange(request) }
            }
            router.on("/api/v1/series", method: method) { request, _ in
                try await respond { try await series(request) }
            }
            router.on("/api/v1/labels", method: method) { request, _ in
                try await respond { try await labelNames(request) }
            }
            router.on("/api/v1/format_query", method: method) { request, _ in
                try await respond { try await formatQuery(request) }
            }
            router.on("/api/v1/query_exemplars", method: method) { request, _ in
                try await respond { try await queryExemplars(request) }
            }
        }
        router.get("/api/v1/metadata") { request, _ in
            try await respond { try await metadata(request) }
        }
        router.get("/api/v1/status/buildinfo") { _, _ in
            try await respond { buildInfo() }
        }
        router.get("/api/v1/status/tsdb") { request, _ in
            try await respond { try await tsdbStatus(request) }
        }
        router.get("/api/v1/status/head_series") { _, _ in
            try await respond { headSeriesHistory() }
        }
        router.get("/api/v1/label/{name}/values") { request, context in
            let name = context.parameters.get("name") ?? ""
            return try await respond { try await labelValues(request, name: name) }
        }
    }

    // MARK: Endpoints

    private func query(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        let expr = try parseQuery(parameters["query"] ?? "")
        let time = try parameters.time("time", default: dependencies.clock.nowMillis())
        let engine = try self.engine(parameters)
        let logged = LoggedQuery(text: parameters["query"] ?? "", rangeSeconds: 0)
        return try await run(engine, logged) { () throws(PromQLError) in try engine.instant(expr, at: time) }
    }

    /// The type and help of each metric family, as Grafana's editor asks:
    /// `metric` picks one family, `limit` caps how many are listed.
    private func metadata(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        var limit = Int.max
        if let text = parameters["limit"], !text.isEmpty {
            guard let value = Int(text) else { throw APIError.badParameter("limit", "not a number: \"\(text)\"") }
            if value >= 0 { limit = value }
        }
        var entries = dependencies.catalog.all.sorted { $0.key < $1.key }
        if let metric = parameters["metric"], !metric.isEmpty { entries = entries.filter { $0.key == metric } }
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":{"#)
        for (i, (name, entry)) in entries.prefix(limit).enumerated() {
            if i > 0 { json.raw(",") }
            json.string(name)
            json.raw(#":[{"type":"#)
            json.string(entry.type)
            json.raw(#","help":"#)
            json.string(entry.help)
            json.raw(#","unit":""}]"#)
        }
        json.raw("}}")
        return json
    }

    /// Tally keeps no exemplars: an empty answer, as Prometheus gives without them.
    private func queryExemplars(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        _ = try parseQuery(parameters["query"] ?? "")
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":[]}"#)
        return json
    }

    /// What Grafana reads to learn the server's version.
    private func buildInfo() -> JSONWriter {
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":{"application":"tally","version":"#)
        json.string(dependencies.version)
        json.raw(#","revision":"","branch":"","buildUser":"","buildDate":"","goVersion":""}}"#)
        return json
    }

    /// The head's cardinality, as Prometheus's TSDB status: `limit` (default
    /// 10) entries in each list, largest first.
    private func tsdbStatus(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        var limit = 10
        if let text = parameters["limit"], !text.isEmpty {
            guard let value = Int(text), value >= 1 else {
                throw APIError.badParameter("limit", "must be a positive number, not \"\(text)\"")
            }
            limit = value
        }
        let stats = dependencies.cardinality?.headCardinality(limit: limit) ?? HeadCardinality()
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":{"headStats":{"numSeries":"#)
        json.int(Int64(stats.series))
        json.raw(#","chunkCount":"#)
        json.int(Int64(stats.chunks))
        json.raw(#","numLabelPairs":"#)
        json.int(Int64(stats.labelPairs))
        // An empty head's bounds as Prometheus gives them: the widest, inverted.
        json.raw(#","minTime":"#)
        json.int(stats.minTime ?? .max)
        json.raw(#","maxTime":"#)
        json.int(stats.maxTime ?? .min)
        json.raw("}")
        for (key, entries) in [
            ("seriesCountByMetricName", stats.seriesCountByMetricName),
            ("labelValueCountByLabelName", stats.labelValueCountByLabelName),
            ("memoryInBytesByLabelName", stats.memoryInBytesByLabelName),
            ("seriesCountByLabelValuePair", stats.seriesCountByLabelValuePair),
        ] {
            json.raw(",")
            json.string(key)
            json.raw(":[")
            for (i, entry) in entries.enumerated() {
                json.raw(i == 0 ? #"{"name":"# : #",{"name":"#)
                json.string(entry.name)
                json.raw(#","value":"#)
                json.int(Int64(entry.value))
                json.raw("}")
            }
            json.raw("]")
        }
        json.raw("}}")
        return json
    }

    /// The head's series count over the last day (one point per maintenance
    /// round, then now), shaped as a range query's answer for
    /// `tally_storage_head_series`, so the UI draws it as it draws any.
    private func headSeriesHistory() -> JSONWriter {
        var points = dependencies.cardinality?.headSeriesHistory() ?? []
        if let cardinality = dependencies.cardinality {
            let now = dependencies.clock.nowMillis()
            if points.last.map({ $0.time < now }) ?? true {
                points.append(HeadSeriesPoint(time: now, series: cardinality.headSeriesCount))
            }
        }
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":{"resultType":"matrix","result":["#)
        if !points.isEmpty {
            json.raw(#"{"metric":{"__name__":"tally_storage_head_series"},"values":["#)
            for (i, point) in points.enumerated() {
                if i > 0 { json.raw(",") }
                json.point(point.time, Double(point.series))
            }
            json.raw("]}")
        }
        json.raw("]}}")
        return json
    }

    /// The query in Prometheus's canonical form (`sum by (job) (x)`).
    private func formatQuery(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        let expr: Expr
        do {
            expr = try Parser.parse(parameters["query"] ?? "")
        } catch {
            throw APIError.badParameter("query", error.description)
        }
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":"#)
        json.string(expr.pretty)
        json.raw("}")
        return json
    }

    private func queryRange(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        let start = try parameters.time("start")
        let end = try parameters.time("end")
        guard let stepText = parameters["step"], !stepText.isEmpty else {
            throw APIError.badParameter("step", "missing")
        }
        let step: Int64
        do {
            step = try parseDurationOrSeconds(stepText)
        } catch {
            throw APIError.badParameter("step", "cannot parse \"\(stepText)\" to a valid duration")
        }
        guard end >= start else {
            throw APIError.badParameter("end", "end timestamp must not be before start time")
        }
        guard step > 0 else {
            throw APIError.badParameter("step", "zero or negative query resolution step widths are not accepted. Try a positive integer")
        }
        // As Prometheus: refused when (end - start) / step is above the limit.
        guard end.saturatingSubtracting(start) / step <= Int64(dependencies.maxPointsPerSeries) else {
            throw APIError(type: .badData, message: "exceeded maximum resolution of \(dependencies.maxPointsPerSeries) points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let expr = try parseQuery(parameters["query"] ?? "")
        guard expr.type == .scalar || expr.type == .vector else {
            throw APIError(type: .badData, message: "invalid expression type \"\(expr.type)\" for range query, must be Scalar or instant Vector")
        }
        let engine = try self.engine(parameters)
        let logged = LoggedQuery(text: parameters["query"] ?? "", rangeSeconds: end.saturatingSubtracting(start) / 1000)
        return try await run(engine, logged) { () throws(PromQLError) in try engine.range(expr, start: start, end: end, step: step) }
    }

    private func series(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        let selectors = try parameters.matchSelectors()
        guard !selectors.isEmpty else { throw APIError(type: .badData, message: "no match[] parameter provided") }
        let (start, end) = try range(parameters)
        let found = try await matchingSeries(selectors, start: start, end: end)
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":["#)
        for (k, labels) in found.enumerated() {
            if k > 0 { json.raw(",") }
            json.labels(labels.map { ($0.name, $0.value) })
        }
        json.raw("]}")
        return json
    }

    private func labelNames(_ request: Request) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        let (start, end) = try range(parameters)
        let selectors = try parameters.matchSelectors()
        var names = Set<String>()
        for labels in try await matchingSeries(selectors, start: start, end: end) {
            for label in labels { names.insert(label.name) }
        }
        return stringList(names.sorted())
    }

    private func labelValues(_ request: Request, name: String) async throws -> JSONWriter {
        let parameters = try await request.formParameters(maxBodyBytes: dependencies.maxBodyBytes)
        guard Labels.isValidName(name) else {
            throw APIError(type: .badData, message: "invalid label name: \"\(name)\"")
        }
        let (start, end) = try range(parameters)
        let selectors = try parameters.matchSelectors()
        var values = Set<String>()
        for labels in try await matchingSeries(selectors, start: start, end: end) {
            if let value = labels[name] { values.insert(value) }
        }
        return stringList(values.sorted())
    }

    // MARK: Helpers

    private func parseQuery(_ text: String) throws -> Expr {
        do {
            return try Parser.parse(text)
        } catch {
            throw APIError.badParameter("query", error.description)
        }
    }

    /// An engine over the querier, with the request's `timeout` when it is shorter.
    private func engine(_ parameters: FormParameters) throws -> Engine {
        var limits = dependencies.queryLimits
        if let text = parameters["timeout"], !text.isEmpty {
            do {
                let millis = try parseDurationOrSeconds(text)
                limits.timeout = min(limits.timeout, .milliseconds(millis))
            } catch {
                throw APIError.badParameter("timeout", "cannot parse \"\(text)\" to a valid duration")
            }
        }
        return Engine(querier: dependencies.querier, limits: limits)
    }

    /// What the query log keeps of a query.
    struct LoggedQuery: Sendable {
        var text: String
        var rangeSeconds: Int64
    }

    /// Runs a query through the gate and renders its answer there too, so a
    /// large answer is encoded on the thread pool rather than on an event loop;
    /// turns the engine's errors into the API's. The query log gets the time
    /// from its start to its answer rendered (or its error).
    private func run(_ engine: Engine, _ logged: LoggedQuery, _ body: @escaping @Sendable () throws(PromQLError) -> QueryResult) async throws -> JSONWriter {
        try await gate.run(timeout: engine.limits.timeout) { [self] () throws -> JSONWriter in
            let started = ContinuousClock.now
            // Kept whether it answers or fails: a query that runs into its timeout is the one to find.
            defer {
                dependencies.queryLog.record(language: "promql", query: logged.text, rangeSeconds: logged.rangeSeconds,
                                             duration: ContinuousClock.now - started, at: dependencies.clock.nowMillis())
            }
            do throws(PromQLError) {
                return render(try body())
            } catch {
                switch error.kind {
                case .parse, .unsupported: throw APIError.badParameter("query", error.description)
                case .execution: throw APIError(type: .execution, message: error.description)
                case .timeout: throw APIError(type: .timeout, message: error.description)
                case .storage: throw APIError(type: .internalError, message: error.description)
                }
            }
        }
    }

    /// A query's answer in Prometheus's JSON.
    private func render(_ result: QueryResult) -> JSONWriter {
        var json = JSONWriter(capacity: 4096)
        json.raw(#"{"status":"success","data":{"resultType":""#)
        json.unescaped(result.resultType)
        json.raw(#"","result":"#)
        switch result {
        case .scalar(let time, let value):
            json.point(time, value)
        case .string(let time, let value):
            json.raw("[")
            json.timestamp(time)
            json.raw(",")
            json.string(value)
            json.raw("]")
        case .vector(let time, let samples):
            json.raw("[")
            for (i, sample) in samples.enumerated() {
                if i > 0 { json.raw(",") }
                json.raw(#"{"metric":"#)
                json.labels(sample.labels.map { ($0.name, $0.value) })
                json.raw(#","value":"#)
                json.point(time, sample.value)
                json.raw("}")
            }
            json.raw("]")
        case .matrix(let series):
            json.raw("[")
            for (i, s) in series.enumerated() {
                if i > 0 { json.raw(",") }
                json.raw(#"{"metric":"#)
                json.labels(s.labels.map { ($0.name, $0.value) })
                json.raw(#","values":["#)
                for (j, point) in s.points.enumerated() {
                    if j > 0 { json.raw(",") }
                    json.point(point.timestamp, point.value)
                }
                json.raw("]}")
            }
            json.raw("]")
        }
        json.raw("}}")
        return json
    }

    private func range(_ parameters: FormParameters) throws -> (Int64, Int64) {
        let start = try parameters.time("start", default: TimeBounds.min)
        let end = try parameters.time("end", default: TimeBounds.max)
        guard end >= start else { throw APIError.badParameter("end", "end timestamp must not be before start time") }
        return (start, end)
    }

    /// Series matching any of the selectors (all series when there are none),
    /// sorted; read on the thread pool, as a store's index can be large.
    private func matchingSeries(_ selectors: [[LabelMatcher]], start: Int64, end: Int64) async throws -> [Labels] {
        let querier = dependencies.querier
        return try await NIOThreadPool.singleton.runIfActive {
            var found = Set<Labels>()
            if selectors.isEmpty {
                found.formUnion(querier.series([], start: start, end: end))
            }
            for matchers in selectors {
                found.formUnion(querier.series(matchers, start: start, end: end))
            }
            return found.sorted { $0.lexicographicallyPrecedes($1) }
        }
    }

    private func stringList(_ values: [String]) -> JSONWriter {
        var json = JSONWriter()
        json.raw(#"{"status":"success","data":["#)
        for (k, value) in values.enumerated() {
            if k > 0 { json.raw(",") }
            json.string(value)
        }
        json.raw("]}")
        return json
    }
}

/// Runs an endpoint and wraps its answer, or its error, as Prometheus does.
func respond(_ body: () async throws -> JSONWriter) async throws -> Response {
    do {
        return jsonResponse(.ok, try await body().bytes)
    } catch let error as APIError {
        return errorResponse(error)
    } catch let error as HTTPError {
        throw error
    } catch {
        return errorResponse(APIError(type: .internalError, message: "\(error)"))
    }
}

func errorResponse(_ error: APIError) -> Response {
    var json = JSONWriter()
    json.raw(#"{"status":"error","errorType":"#)
    json.string(error.type.rawValue)
    json.raw(#","error":"#)
    json.string(error.message)
    json.raw("}")
    return jsonResponse(error.status, json.bytes)
}

func jsonResponse(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
    var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
}
