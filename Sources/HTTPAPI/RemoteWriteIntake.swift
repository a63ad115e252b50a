import ProtobufWire
import TelemetryModel

/// Stores one decoded remote_write request: checks each series' labels,
/// registers the valid series in one call, appends their samples in one
/// batch, and words what was refused for the 400 the sender gets.
///
/// A series is refused whole when its labels are not a Prometheus label
/// set (a label name outside `[a-zA-Z_][a-zA-Z0-9_]*`, a metric name outside
/// `[a-zA-Z_:][a-zA-Z0-9_:]*` or missing, a value that is not UTF-8, a name
/// given twice); a sample is refused when the store refuses it (out of
/// order, a duplicate timestamp, older than the blocks). NaN and ±Inf are
/// values like any other, stored bit for bit: Prometheus marks a series
/// that ended with a NaN of its own (the staleness marker) and sends it.
struct RemoteWriteIntake {
    let raw: UnsafeRawBufferPointer
    let request: RemoteWriteRequest
    let sink: any SampleSink
    let metrics: RemoteWriteMetrics
    let catalog: MetricCatalog

    typealias Reason = RemoteWriteMetrics.SampleReason

    func run() -> StoreOutcome {
        var refused: [Reason: Int] = [:]
        var firstProblem: String?
        func refuse(_ reason: Reason, _ count: Int, _ problem: @autoclosure () -> String) {
            refused[reason, default: 0] += count
            if firstProblem == nil { firstProblem = problem() }
        }

        var labelSets: [Labels] = []
        labelSets.reserveCapacity(request.series.count)
        var kept: [Int] = []
        kept.reserveCapacity(request.series.count)
        var exemplars = 0
        for (i, series) in request.series.enumerated() {
            exemplars += series.exemplars
            if series.histograms > 0 {
                refuse(.nativeHistogram, series.histograms, "series \(describe(series)) carries native histogram samples, which tally does not store")
            }
            guard !series.samples.isEmpty else { continue }
            switch labels(of: series) {
            case .success(let labels):
                labelSets.append(labels)
                kept.append(i)
            case .failure(let failure):
                refuse(failure.reason, series.samples.count, "series \(describe(series)): \(failure.message)")
            }
        }

        var samples: [RefSample] = []
        samples.reserveCapacity(request.samples.count)
        var owners: [Int32] = []
        owners.reserveCapacity(request.samples.count)
        let refs = sink.register(labelSets)
        for (k, i) in kept.enumerated() {
            for sample in request.samples[request.series[i].samples] {
                samples.append(RefSample(ref: refs[k], timestamp: sample.timestamp, value: sample.value))
                owners.append(Int32(k))
            }
        }
        let report = sink.appendReporting(samples)
        sink.release(refs)
        for (reason, count) in report.rejected {
            refused[Reason(rawValue: reason.rawValue) ?? .unknownSeries, default: 0] += count
        }
        if firstProblem == nil, let (index, reason) = report.first {
            firstProblem = "\(reason.phrase): series \(labelSets[Int(owners[index])]) at timestamp \(samples[index].timestamp)"
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

    private func labels(of series: RemoteWriteRequest.Series) -> Result<Labels, LabelFailure> {
        var pairs: [Label] = []
        pairs.reserveCapacity(series.labels.count)
        var hasMetricName = false
        for range in request.labels[series.labels] {
            let nameBytes = UnsafeRawBufferPointer(rebasing: raw[range.name])
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard Labels.isValidName(name) else {
                return .failure(LabelFailure(reason: .invalidLabels, message: "invalid label name \"\(name)\""))
            }
            guard let value = String(validating: UnsafeRawBufferPointer(rebasing: raw[range.value]), as: UTF8.self) else {
                return .failure(LabelFailure(reason: .invalidLabels, message: "the value of label \(name) is not valid UTF-8"))
            }
            if name == Labels.metricName, !value.isEmpty {
                guard Labels.isValidMetricName(value) else {
                    return .failure(LabelFailure(reason: .invalidLabels, message: "invalid metric name \"\(value)\""))
                }
                hasMetricName = true
            }
            pairs.append(Label(name, value))
        }
        guard hasMetricName else {
            return .failure(LabelFailure(reason: .missingMetricName, message: "no metric name (__name__ label)"))
        }
        if let labels = Labels(sorted: pairs) { return .success(labels) }
        // Not in name order (the protocol asks senders to sort, not all do): sort, and refuse a name given twice.
        let sorted = pairs.sorted { $0.name < $1.name }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.name == b.name {
            return .failure(LabelFailure(reason: .duplicateLabel, message: "label name \"\(a.name)\" is given twice"))
        }
        return .success(Labels(sorted))
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
    }

    /// The series as sent, for messages: `{name="value", …}`.
    private func describe(_ series: RemoteWriteRequest.Series) -> String {
        let pairs = request.labels[series.labels].map { "\(text($0.name))=\"\(escapeLabelValue(text($0.value)))\"" }
        return "{\(pairs.joined(separator: ", "))}"
    }
}
