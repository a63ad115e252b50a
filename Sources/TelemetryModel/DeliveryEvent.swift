
/// A production deployment or an incident, as a pipeline reports it
/// (docs/events.md): the input of the four key metrics.
public enum DeliveryEvent: Sendable, Equatable {
    case deployment(Deployment)
    case incident(Incident)
}

public struct Deployment: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case success
        case failure
        case rolledBack = "rolled_back"
    }

    public var service: String
    public var version: String
    public var commitSHA: String
    /// Milliseconds since the epoch.
    public var commitTime: Int64
    public var status: Status
    public var environment: String
    /// When it was deployed (milliseconds).
    public var time: Int64

    public init(service: String, version: String, commitSHA: String, commitTime: Int64, status: Status, environment: String = "production", time: Int64) {
        self.service = service
        self.version = version
        self.commitSHA = commitSHA
        self.commitTime = commitTime
        self.status = status
        self.environment = environment
        self.time = time
    }

    public var isProduction: Bool { environment == "production" }
}

public struct Incident: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        case opened
        case resolved
    }

    public var id: String
    public var service: String
    public var state: State
    public var severity: String?
    /// The version or commit the incident is blamed on.
    public var causedBy: String?
    /// Milliseconds since the epoch.
    public var time: Int64

    public init(id: String, service: String, state: State, severity: String? = nil, causedBy: String? = nil, time: Int64) {
        self.id = id
        self.service = service
        self.state = state
        self.severity = severity
        self.causedBy = causedBy
        self.time = time
    }
}

/// Why an event was refused: every field that is wrong, and what is wrong
/// with it, so that a sender fixes them all at once.
public struct EventError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var reason: String

        public var description: String { "\(field): \(reason)" }
    }

    /// In the order the fields are checked; never empty.
    public var problems: [Problem]

    public init(field: String, reason: String) {
        problems = [Problem(field: field, reason: reason)]
    }

    init(_ problems: [Problem]) {
        self.problems = problems
    }

    public var description: String { described() }

    /// Every problem, each after `prefix` (`events[2].`), joined by "; ".
    public func described(prefix: String = "") -> String {
        problems.map { prefix + $0.description }.joined(separator: "; ")
    }

    /// A short label for `/metrics` (`missing_field`, `bad_time`, …), of the first problem.
    public var kind: String {
        let reason = problems[0].reason
        if reason.hasPrefix("missing") { return "missing_field" }
        if reason.contains("time") { return "bad_time" }
        return "bad_value"
    }
}

extension DeliveryEvent {
    /// Reads an event from its fields (strings, as every ingest path gives
    /// them). `time` is the record's own time when the fields have none (ms).
    public static func parse(_ fields: [String: String], time recordTime: Int64) -> Result<DeliveryEvent, EventError> {
        var problems: [EventError.Problem] = []
        func problem(_ field: String, _ reason: String) {
            problems.append(EventError.Problem(field: field, reason: reason))
        }
        func required(_ name: String) -> String? {
            guard let value = fields[name].map({ $0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed() }), !value.isEmpty else {
                problem(name, "missing")
                return nil
            }
            return String(value)
        }
        /// nil when absent; `.some(nil)` when present but not a time (the problem is noted).
        func timeField(_ name: String) -> Int64?? {
            guard let text = fields[name], !text.isEmpty else { return .none }
            guard let time = try? parseTimestamp(text) else {
                problem(name, "not a time (RFC 3339 or Unix seconds): \"\(text)\"")
                return .some(nil)
            }
            return .some(time)
        }
        let kind = required("event")
        let service = required("service")
        let ownTime = timeField("time")
        let time = (ownTime ?? recordTime) ?? recordTime
        var event: DeliveryEvent?
        switch kind {
        case "deployment":
            let statusText = required("status")
            let status = statusText.flatMap { Deployment.Status(rawValue: $0) }
            if let statusText, status == nil { problem("status", "must be success, failure or rolled_back, not \"\(statusText)\"") }
            let commitTime: Int64?
            switch timeField("commit_time") {
            case .none:
                problem("commit_time", "missing")
                commitTime = nil
            case .some(let parsed):
                commitTime = parsed
            }
            if let commitTime, ownTime != .some(nil), commitTime > time {
                problem("commit_time", "is after the deploy time (\(formatRFC3339(commitTime)) > \(formatRFC3339(time)))")
            }
            let version = required("version")
            let sha = required("commit_sha")
            if let service, let status, let commitTime, let version, let sha, problems.isEmpty {
                let environment = fields["environment"].flatMap { $0.isEmpty ? nil : $0 } ?? "production"
                event = .deployment(Deployment(
                    service: service, version: version, commitSHA: sha, commitTime: commitTime, status: status,
                    environment: environment, time: time))
            }
        case "incident":
            let stateText = required("state")
            let state = stateText.flatMap { Incident.State(rawValue: $0) }
            if let stateText, state == nil { problem("state", "must be opened or resolved, not \"\(stateText)\"") }
            let id = required("incident_id")
            if let service, let state, let id, problems.isEmpty {
                event = .incident(Incident(
                    id: id, service: service, state: state, severity: fields["severity"].flatMap { $0.isEmpty ? nil : $0 },
                    causedBy: fields["caused_by"].flatMap { $0.isEmpty ? nil : $0 }, time: time))
            }
        case nil:
            break
        case let other?:
            problem("event", "must be deployment or incident, not \"\(other)\"")
        }
        if let event, problems.isEmpty { return .success(event) }
        return .failure(EventError(problems))
    }
}

extension DeliveryEvent {
    /// When it happened (milliseconds).
    public var time: Int64 {
        switch self {
        case .deployment(let deploy): deploy.time
        case .incident(let incident): incident.time
        }
    }
}
