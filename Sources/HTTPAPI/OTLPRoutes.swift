import BlockCodec
import Foundation
import Hummingbird
import LogStorage
import LogWire
import NIOCore
import NIOPosix
import OTLPWire
import SelfMetrics
import TelemetryModel

/// The limits of the OTLP/HTTP receiver (`otlp:` in tally.yaml).
public struct OTLPSettings: Sendable {
    /// Largest request body, before or after gzip (`otlp.max_request_size`).
    public var maxRequestBytes = 64 << 20
    /// Requests decoded and stored at once; more are answered 429 (`otlp.max_concurrent_requests`).
    public var maxConcurrentRequests = 16
    /// Series of delta temporality with a running total (`otlp.max_delta_series`).
    public var maxDeltaSeries = 1_000_000

    public init() {}
}

/// `POST /v1/metrics` and `POST /v1/logs`: OTLP/HTTP, as OpenTelemetry SDKs
/// and the Collector's `otlphttp` exporter send it, on its own listener.
///
/// Protobuf (`application/x-protobuf`) or JSON (`application/json`), plain
/// or gzip. 200 with an empty response when everything was stored, 200
/// with `partial_success` (how many were refused, and the first reason)
/// when some data points or records were refused, the rest being stored;
/// 400 when the body cannot be read, 413 over `otlp.max_request_size`, 415
/// for other encodings, 429 past `otlp.max_concurrent_requests` and 503
/// when the store cannot write, both with Retry-After so senders retry.
/// Error bodies are a `google.rpc.Status` in the request's encoding.
struct OTLPRoutes: Sendable {
    let dependencies: APIDependencies
    let settings: OTLPSettings
    let gate: PushGate
    let metrics: OTLPMetrics
    let deltas: DeltaAccumulator

    init(dependencies: APIDependencies, settings: OTLPSettings) {
        self.dependencies = dependencies
        self.settings = settings
        gate = PushGate(limit: settings.maxConcurrentRequests)
        metrics = OTLPMetrics(registry: dependencies.registry)
        deltas = DeltaAccumulator(maxSeries: settings.maxDeltaSeries)
    }

    func register(on router: Router<TallyRequestContext>) {
        router.post("/v1/metrics") { request, _ in
            await receive(request, signal: "metrics") { body, encoding in try await storeMetrics(body, encoding) }
        }
        router.post("/v1/logs") { request, _ in
            await receive(request, signal: "logs") { body, encoding in try await storeLogs(body, encoding) }
        }
    }

    /// A request refused whole.
    struct Refusal: Error {
        var status: HTTPResponse.Status
        var reason: OTLPMetrics.RequestReason
        var message: String
    }

    /// Reads the body (size, encoding), admits the request, stores it with
    /// `store`, and answers 200 with its response body or the refusal.
    private func receive(
        _ request: Request, signal: String, _ store: @Sendable ([UInt8], OTLPEncoding) async throws -> [UInt8]
    ) async -> Response {
        let encoding = OTLPEncoding(contentType: request.headers[.contentType] ?? "")
        do {
            guard let encoding else {
                throw Refusal(
                    status: .unsupportedMediaType, reason: .unsupportedMediaType,
                    message: "unsupported Content-Type \"\(request.headers[.contentType] ?? "")\": OTLP/HTTP is application/x-protobuf or application/json")
            }
            let body = try await body(request)
            guard gate.enter() else {
                throw Refusal(
                    status: .tooManyRequests, reason: .overloaded,
                    message: "too many OTLP requests being stored at once (\(gate.limit), otlp.max_concurrent_requests); retry later")
            }
            defer { gate.leave() }
            let answer = try await store(body, encoding)
            return Response(
                status: .ok, headers: [.contentType: encoding.contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer)))
        } catch let refusal as Refusal {
            metrics.requestsRejected[signal]?[refusal.reason]?.increment()
            let encoding = encoding ?? .json
            let code: Int32 = switch refusal.status {
            case .tooManyRequests: 8  // RESOURCE_EXHAUSTED
            case .serviceUnavailable: 14  // UNAVAILABLE
            default: 3  // INVALID_ARGUMENT
            }
            var response = Response(
                status: refusal.status, headers: [.contentType: encoding.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: OTLPResponse.status(code: code, message: refusal.message, encoding: encoding))))
            if refusal.status == .tooManyRequests || refusal.status == .serviceUnavailable { response.headers[.retryAfter] = "1" }
            return response
        } catch {
            metrics.requestsRejected[signal]?[.unavailable]?.increment()
            return textResponse(.internalServerError, "\(error)")
        }
    }

    /// The body, inflated when it came gzip-encoded, within the size limit either way.
    private func body(_ request: Request) async throws -> [UInt8] {
        var request = request
        let limit = settings.maxRequestBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw Refusal(status: .contentTooLarge, reason: .tooLarge, message: "the request body is larger than \(limit) bytes (otlp.max_request_size)")
        }
        guard buffer.readableBytes > 0 else {
            throw Refusal(status: .badRequest, reason: .empty, message: "empty request body")
        }
        let raw = Array(buffer.readableBytesView)
        switch (request.headers[.contentEncoding] ?? "").lowercased().trimmingCharacters(in: .whitespaces) {
        case "", "identity":
            return raw
        case "gzip", "deflate":
            let inflated = try await NIOThreadPool.singleton.runIfActive { raw.withUnsafeBytes { Inflate.decompress($0, limit: limit) } }
            switch inflated {
            case .success(let bytes): return bytes
            case .failure(.tooLarge):
                throw Refusal(status: .contentTooLarge, reason: .tooLarge, message: "the request body inflates to more than \(limit) bytes (otlp.max_request_size)")
            case .failure(.corrupt(let status)):
                throw Refusal(status: .badRequest, reason: .badBody, message: "the request body is not valid gzip data (zlib status \(status))")
            }
        case let other:
            throw Refusal(
                status: .unsupportedMediaType, reason: .unsupportedEncoding,
                message: "unsupported Content-Encoding \"\(other)\": tally takes gzip or none")
        }
    }

    // MARK: Metrics

    private func storeMetrics(_ body: [UInt8], _ encoding: OTLPEncoding) async throws -> [UInt8] {
        guard let sink = dependencies.sampleSink else {
            throw Refusal(status: .serviceUnavailable, reason: .unavailable, message: "this tally stores no metrics")
        }
        let (now, deltas, catalog, metrics, limits, seriesLimits, refusedByName) = (
            dependencies.clock.nowMillis(), self.deltas, dependencies.catalog, self.metrics, dependencies.labelLimits,
            dependencies.seriesLimits, dependencies.seriesPerMetricRefusals
        )
        // Decoding, translating and storing are CPU work: on the thread pool, never on an event loop.
        return try await NIOThreadPool.singleton.runIfActive {
            let result: OTLPMetricsTranslation.Result
            do {
                result = try OTLPMetricsTranslation.translate(body, encoding: encoding, nowMillis: now, deltas: deltas)
            } catch {
                throw Refusal(status: .badRequest, reason: .badBody, message: "\(error)")
            }
            for family in result.families {
                catalog.record(family: family.name, type: family.type, help: family.help)
            }
            var rejected = result.rejected
            var problem = result.firstProblem
            // The label limits (`limits:`), as on every path that creates series: a sample past them is
            // refused and counted by reason (a histogram's buckets count one each).
            var samples = result.samples
            samples.removeAll { sample in
                guard let (violation, words) = limits.violation(sample.labels) else { return false }
                rejected[violation.rawValue, default: 0] += 1
                if problem == nil { problem = "series \(sample.labels.metricName): \(words)" }
                return true
            }
            let report = Self.append(samples, to: sink, within: seriesLimits)
            for (reason, count) in report.rejected { rejected[reason.rawValue, default: 0] += count }
            for (reason, count) in report.overLimits { rejected[reason, default: 0] += count }
            for (name, count) in report.overMetricLimitByName { refusedByName.increment(name, by: count) }
            if problem == nil { problem = report.limitProblem }
            if problem == nil, let (index, reason) = report.first {
                problem = "\(reason.phrase): \(report.samples[index].labels) at timestamp \(report.samples[index].timestamp)"
            }
            metrics.pointsReceived.increment(by: Int64(report.accepted))
            for (reason, count) in rejected { metrics.pointsRejected[reason]?.increment(by: Int64(count)) }
            let refused = rejected.values.reduce(0, +)
            return OTLPResponse.metrics(rejectedPoints: refused, message: refused > 0 ? problem : nil, encoding: encoding)
        }
    }

    /// What appending a request's samples did, with the samples in the order appended.
    struct AppendOutcome {
        var samples: [Sample]
        var report: SampleAppendReport
        /// Samples of series the series limits kept from being created, by reason.
        var overLimits: [String: Int] = [:]
        /// Samples refused by the per-name limit, by metric name.
        var overMetricLimitByName: [String: Int] = [:]
        var limitProblem: String?
        var accepted: Int { report.accepted }
        var rejected: [SampleRejection: Int] { report.rejected }
        var first: (index: Int, reason: SampleRejection)? { report.first }
    }

    /// Registers each series once, appends its samples in time order, releases.
    private static func append(_ samples: [Sample], to sink: any SampleSink, within limits: SeriesLimits) -> AppendOutcome {
        guard !samples.isEmpty else { return AppendOutcome(samples: [], report: SampleAppendReport()) }
        // Each sample's series, looked up once; then the samples by series and time.
        var index: [Labels: Int] = [:]
        var labelSets: [Labels] = []
        var series: [Int] = []
        series.reserveCapacity(samples.count)
        for sample in samples {
            if let known = index[sample.labels] {
                series.append(known)
            } else {
                index[sample.labels] = labelSets.count
                series.append(labelSets.count)
                labelSets.append(sample.labels)
            }
        }
        let order = samples.indices.sorted { a, b in
            series[a] != series[b] ? series[a] < series[b] : (samples[a].timestamp, a) < (samples[b].timestamp, b)
        }
        var refs: [SeriesRef?] = []
        var overLimits: [String: Int] = [:]
        var limitProblem: String?
        let registrations = sink.register(labelSets, within: limits)
        for (k, registration) in registrations.enumerated() {
            switch registration {
            case .registered(let ref): refs.append(ref)
            case .overSeriesLimit:
                refs.append(nil)
                if limitProblem == nil { limitProblem = "series \(labelSets[k]): the store holds \(limits.maxSeries) series (limits.max_series)" }
            case .overMetricLimit:
                refs.append(nil)
                if limitProblem == nil {
                    limitProblem = "series \(labelSets[k]): \(labelSets[k].metricName) has \(limits.maxSeriesPerMetric) series (limits.max_series_per_metric)"
                }
            }
        }
        let kept = order.filter { refs[series[$0]] != nil }
        var overMetricLimitByName: [String: Int] = [:]
        for index in order where refs[series[index]] == nil {
            let overMetricLimit = registrations[series[index]] == .overMetricLimit
            overLimits[overMetricLimit ? "series_per_metric_limit" : "series_limit", default: 0] += 1
            if overMetricLimit { overMetricLimitByName[labelSets[series[index]].metricName, default: 0] += 1 }
        }
        let ordered = kept.map { samples[$0] }
        let report = sink.appendReporting(kept.map { RefSample(ref: refs[series[$0]]!, timestamp: samples[$0].timestamp, value: samples[$0].value) })
        sink.release(refs.compactMap { $0 })
        return AppendOutcome(
            samples: ordered, report: report, overLimits: overLimits, overMetricLimitByName: overMetricLimitByName, limitProblem: limitProblem)
    }

    // MARK: Logs

    private func storeLogs(_ body: [UInt8], _ encoding: OTLPEncoding) async throws -> [UInt8] {
        guard let store = dependencies.logStore else {
            throw Refusal(status: .serviceUnavailable, reason: .unavailable, message: "this tally stores no logs")
        }
        let (now, labels, maxLine, metrics) = (dependencies.clock.nowNanos(), dependencies.logLabels, dependencies.maxLogLineBytes, self.metrics)
        return try await NIOThreadPool.singleton.runIfActive {
            let result: OTLPLogsTranslation.Result
            do {
                result = try OTLPLogsTranslation.translate(body, encoding: encoding, nowNanos: now)
            } catch {
                throw Refusal(status: .badRequest, reason: .badBody, message: "\(error)")
            }
            let decoder = LogDecoder(config: labels)
            let labelNames = Set(labels.labelFields)
            var batch = LogBatch(capacity: body.count + 1024)
            var log = DecodedLog()
            var invalid = 0
            var problem: String?
            for entry in result.entries {
                var streamLabels: [(String, String)] = []
                var fields: [(String, String)] = []
                for (name, value) in entry.candidates {
                    if labelNames.contains(name), value.utf8.count <= labels.maxLabelValueBytes, !streamLabels.contains(where: { $0.0 == name }) {
                        streamLabels.append((name, value))
                    } else {
                        fields.append((name, value))
                    }
                }
                fields += entry.fields
                if let refusal = decoder.makeRecord(
                    labels: streamLabels, line: entry.line, timestamp: entry.timestampNanos, fields: fields, source: .otlp,
                    maxLineBytes: maxLine, into: &log)
                {
                    invalid += 1
                    if problem == nil { problem = refusal }
                    continue
                }
                batch.append(log)
            }
            var stored = LogAppendResult()
            if !batch.isEmpty {
                do {
                    stored = try store.append(batch, now: now)
                } catch {
                    throw Refusal(status: .serviceUnavailable, reason: .unavailable, message: "the log store cannot write: \(error)")
                }
            }
            metrics.recordsReceived.increment(by: Int64(stored.accepted))
            if invalid > 0 { metrics.recordsRejected["invalid"]?.increment(by: Int64(invalid)) }
            if stored.rejectedCount > 0 { metrics.recordsRejected["store_refused"]?.increment(by: Int64(stored.rejectedCount)) }
            if problem == nil { problem = stored.firstRejection }
            let refused = invalid + stored.rejectedCount
            return OTLPResponse.logs(rejectedRecords: refused, message: refused > 0 ? problem : nil, encoding: encoding)
        }
    }
}

/// The OTLP listener's router: `/v1/metrics`, `/v1/logs`, and `/healthz`.
public func buildOTLPRouter(_ dependencies: APIDependencies, settings: OTLPSettings) -> Router<TallyRequestContext> {
    let router = Router(context: TallyRequestContext.self)
    addAccessControl(to: router, dependencies)
    OTLPRoutes(dependencies: dependencies, settings: settings).register(on: router)
    router.get("/healthz") { _, _ in "ok\n" }
    return router
}
