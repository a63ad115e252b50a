import ProtobufWire
import SelfMetrics
import TelemetryModel

/// Stores one decoded remote_write request: checks each series' labels,
/// registers the valid series in one call, appends their samples in one
/// batch, and words what was refused for the 400 the sender gets.
///
/// A series is refused whole when its labels are not a Prometheus label
/// set (a label name outside `[a-zA-Z_][a-zA-Z0-9_]*`, a metric name outside
/// `[a-zA-Z_:][a-zA-Z0-9_:]*` or missing, a value that is not UTF-8, a name
/// given twice) or pass the label limits (`limits:`: too many labels, a name
/// or value too long); a sample is refused when the store refuses it (out of
/// order, a duplicate timestamp, older than the blocks). NaN and ±Inf are
/// values like any other, stored bit for bit: Prometheus marks a series
/// that ended with a NaN of its own (the staleness marker) and sends it.
struct RemoteWriteIntake {
    let raw: UnsafeRawBufferPointer
    let request: RemoteWriteRequest
    let sink: any SampleSink
    let metrics: RemoteWriteMetrics
    let catalog: MetricCatalog
    let cache: WriteSeriesCache
    let limits: LabelLimits
    let seriesLimits: SeriesLimits
    let refusedByName: CountersByName

    typealias Reason = RemoteWriteMetrics.SampleReason

    func run() throws(RemoteWriteRoutes.Refusal) -> StoreOutcome {
        var refused: [Reason: Int] = [:]
        var firstProblem: String?
        func refuse(_ reason: Reason, _ count: Int, _ problem: @autoclosure () -> String) {
            refused[reason, default: 0] += count
            if firstProblem == nil { firstProblem = problem() }
        }

        // The series with samples, and the bytes that key them in the cache.
        var exemplars = 0
        var candidates: [Int] = []
        candidates.reserveCapacity(request.series.count)
        for (i, series) in request.series.enumerated() {
            exemplars += series.exemplars
            if series.histograms > 0 {
                refuse(.nativeHistogram, series.histograms, "series \(describe(series)) carries native histogram samples, which tally does not store")
            }
            if !series.samples.isEmpty { candidates.append(i) }
        }
        let keys = candidates.map { i in request.series[i].labelBytes.map { UnsafeRawBufferPointer(rebasing: raw[$0]) } }
        var refs = cache.begin(keys)

        // Series not cached: check their labels and register them in one call.
        var labelSets: [Labels] = []
        var registered: [Int] = []
        for (c, i) in candidates.enumerated() where refs[c] == nil {
            let pairs: [RemoteWriteRequest.LabelRange]
            do {
                pairs = try RemoteWriteRequest.labels(of: request.series[i], in: raw)
            } catch {
                // Nothing is registered or stored yet: refuse the whole request.
                let evicted = cache.end()
                if !evicted.isEmpty { sink.release(evicted) }
                throw RemoteWriteRoutes.Refusal(
                    status: .badRequest, reason: .badProtobuf, message: "invalid prometheus.WriteRequest: \(error)")
            }
            switch labels(pairs) {
            case .success(let labels):
                labelSets.append(labels)
                registered.append(c)
            case .failure(let failure):
                refuse(failure.reason, request.series[i].samples.count, "series \(describe(request.series[i])): \(failure.message)")
            }
        }
        var release: [SeriesRef] = []
        if !labelSets.isEmpty {
            var entries: [(key: UnsafeRawBufferPointer, ref: SeriesRef)] = []
            for (k, (c, registration)) in zip(registered, sink.register(labelSets, within: seriesLimits)).enumerated() {
                let ref: SeriesRef
                switch registration {
                case .registered(let registered): ref = registered
                case .overSeriesLimit:
                    refuse(.seriesLimit, request.series[candidates[c]].samples.count,
                           "series \(labelSets[k]): the store holds \(seriesLimits.maxSeries) series (limits.max_series)")
                    continue
                case .overMetricLimit:
                    refusedByName.increment(labelSets[k].metricName, by: request.series[candidates[c]].samples.count)
                    refuse(.seriesPerMetricLimit, request.series[candidates[c]].samples.count,
                           "series \(labelSets[k]): \(labelSets[k].metricName) has \(seriesLimits.maxSeriesPerMetric) series (limits.max_series_per_metric)")
                    continue
                }
                refs[c] = ref
                if let key = keys[c] { entries.append((key, ref)) } else { release.append(ref) }
            }
            release += cache.insert(entries)
        }

        var samples: [RefSample] = []
        samples.reserveCapacity(request.samples.count)
        var owners: [Int32] = []
        owners.reserveCapacity(request.samples.count)
        for (c, i) in candidates.enumerated() {
            guard let ref = refs[c] else { continue }
            for sample in request.samples[request.series[i].samples] {
                samples.append(RefSample(ref: ref, timestamp: sample.timestamp, value: sample.value))
                owners.append(Int32(i))
            }
        }
        let report = sink.appendReporting(samples)
        release += cache.end()
        if !release.isEmpty { sink.release(release) }
        for (reason, count) in report.rejected {
            refused[Reason(rawValue: reason.rawValue) ?? .unknownSeries, default: 0] += count
        }
        if firstProblem == nil, let (index, reason) = report.first {
            firstProblem = "\(reason.phrase): series \(describe(request.series[Int(owners[index])])) at timestamp \(samples[index].timestamp)"
        }

        for entry in request.metadata where !entry.family.isEmpty {
            let type = RemoteWriteRequest.metricTypeNames.indices.contains(entry.type) ? RemoteWriteRequest.metricTypeNames[entry.type] : "unknown"
            catalog.record(family: text(entry.family), type: type, help: text(entry.help))
        }

        metrics.seriesReceived.increment(by: Int64(request.series.count))
        metrics.samplesReceived.increment(by: Int64(report.accepted))
        if exemplars > 0 { metrics.exemplarsDropped.increment(by: Int64(exemplars)) }
        for (reason, count) in refused { metrics.samplesRejected[reason]?.increment(by: Int64(count)) }

        var outcome = StoreOutcome(stored: report.accepted)
        if let firstProblem {
            let counts = refused.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }
            outcome.problem = "\(firstProblem) (refused: \(counts.joined(separator: ", ")); \(report.accepted) samples stored)"
        }
        return outcome
    }

    /// Why a series' labels are not a label set.
    struct LabelFailure: Error {
        var reason: Reason
        var message: String
    }

    private func labels(_ ranges: [RemoteWriteRequest.LabelRange]) -> Result<Labels, LabelFailure> {
        var pairs: [Label] = []
        pairs.reserveCapacity(ranges.count)
        var hasMetricName = false
        var sorted = true
        var previousName: UnsafeRawBufferPointer?
        for range in ranges {
            let nameBytes = UnsafeRawBufferPointer(rebasing: raw[range.name])
            let valueBytes = UnsafeRawBufferPointer(rebasing: raw[range.value])
            guard Self.isLabelName(nameBytes) else {
                return .failure(LabelFailure(reason: .invalidLabels, message: "invalid label name \"\(text(range.name))\""))
            }
            let value = String(decoding: valueBytes, as: UTF8.self)
            // Decoding replaces invalid sequences: the bytes come back unchanged only when valid.
            guard Self.isASCII(valueBytes) || value.utf8.elementsEqual(valueBytes) else {
                return .failure(LabelFailure(reason: .invalidLabels, message: "the value of label \(text(range.name)) is not valid UTF-8"))
            }
            if let previousName, !previousName.lexicographicallyPrecedes(nameBytes) { sorted = false }
            previousName = nameBytes
            let name = String(decoding: nameBytes, as: UTF8.self)
            if name == Labels.metricName, !valueBytes.isEmpty {
                guard Self.isMetricName(valueBytes) else {
                    return .failure(LabelFailure(reason: .invalidLabels, message: "invalid metric name \"\(value)\""))
                }
                hasMetricName = true
            }
            pairs.append(Label(name, value))
        }
        guard hasMetricName else {
            return .failure(LabelFailure(reason: .missingMetricName, message: "no metric name (__name__ label)"))
        }
        // Senders sort by name (the protocol asks them to); the names are ASCII, so byte order is String order.
        if sorted, let labels = Labels(sorted: pairs) { return withinLimits(labels) }
        let ordered = pairs.sorted { $0.name < $1.name }
        for (a, b) in zip(ordered, ordered.dropFirst()) where a.name == b.name {
            return .failure(LabelFailure(reason: .duplicateLabel, message: "label name \"\(a.name)\" is given twice"))
        }
        return withinLimits(Labels(ordered))
    }

    private func withinLimits(_ labels: Labels) -> Result<Labels, LabelFailure> {
        guard let (violation, words) = limits.violation(labels) else { return .success(labels) }
        let reason: Reason = switch violation {
        case .tooManyLabels: .tooManyLabels
        case .labelNameTooLong: .labelNameTooLong
        case .labelValueTooLong: .labelValueTooLong
        }
        return .failure(LabelFailure(reason: reason, message: "series \(labels.metricName): \(words)"))
    }

    private static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 < 0x80 }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`
    static func isLabelName(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return bytes.allSatisfy { c in
            (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c == 0x5F || (c >= 0x30 && c <= 0x39)
        }
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isMetricName(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return bytes.allSatisfy { c in
            (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c == 0x5F || c == 0x3A || (c >= 0x30 && c <= 0x39)
        }
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
    }

    /// The series as sent, for messages: `name{label="value", …}`.
    private func describe(_ series: RemoteWriteRequest.Series) -> String {
        guard let ranges = try? RemoteWriteRequest.labels(of: series, in: raw) else { return "(labels not decodable)" }
        let pairs = ranges.map { (text($0.name), text($0.value)) }
        let name = pairs.first { $0.0 == Labels.metricName }?.1 ?? ""
        let others = pairs.filter { $0.0 != Labels.metricName }.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }
        return others.isEmpty ? (name.isEmpty ? "{}" : name) : "\(name){\(others.joined(separator: ", "))}"
    }
}
