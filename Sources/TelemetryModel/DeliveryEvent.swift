
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

/// Why an event was refused: the field and what is wrong with it.
public struct EventError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }

    /// A short label for `/metrics` (`missing_field`, `bad_time`, …).
    public var kind: String {
        if reason.hasPrefix("missing") { return "missing_field" }
        if reason.contains("time") { return "bad_time" }
        return "bad_value"
    }
}

extension DeliveryEvent {
    /// Reads an event from its fields (strings, as every ingest path gives
    /// them). `time` is the record's own time when the fields have none (ms).
    public static func parse(_ fields: [String: String], time recordTime: Int64) -> Result<DeliveryEvent, EventError> {
        func required(_ name: String) -> Result<String, EventError> {
            guard let value = fields[name].map({ $0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed() }), !value.isEmpty else {
                return .failure(EventError(field: name, reason: "missing"))
            }
            return .success(String(value))
        }
        func timeField(_ name: String) -> Result<Int64?, EventError> {
            guard let text = fields[name], !text.isEmpty else { return .success(nil) }
            do {
                return .success(try parseTimestamp(text))
            } catch {
                return .failure(EventError(field: name, reason: "not a time (RFC 3339 or Unix seconds): \"\(text)\""))
            }
        }
        do {
            let kind = try required("event").get()
            let service = try required("service").get()
            let time = try timeField("time").get() ?? recordTime
            switch kind {
            case "deployment":
                let statusText = try required("status").get()
                guard let status = Deployment.Status(rawValue: statusText) else {
                    throw EventError(field: "status", reason: "must be success, failure or rolled_back, not \"\(statusText)\"")
                }
                guard let commitTime = try timeField("commit_time").get() else { throw EventError(field: "commit_time", reason: "missing") }
                guard commitTime <= time else {
                    throw EventError(field: "commit_time", reason: "is after the deploy time (\(formatRFC3339(commitTime)) > \(formatRFC3339(time)))")
                }
                let environment = fields["environment"].flatMap { $0.isEmpty ? nil : $0 } ?? "production"
                return .success(.deployment(Deployment(
                    service: service, version: try required("version").get(), commitSHA: try required("commit_sha").get(),
                    commitTime: commitTime, status: status, environment: environment, time: time)))
            case "incident":
                let stateText = try required("state").get()
                guard let state = Incident.State(rawValue: stateText) else {
                    throw EventError(field: "state", reason: "must be opened or resolved, not \"\(stateText)\"")
                }
                return .success(.incident(Incident(
                    id: try required("incident_id").get(), service: service, state: state,
                    severity: fields["severity"].flatMap { $0.isEmpty ? nil : $0 },
                    causedBy: fields["caused_by"].flatMap { $0.isEmpty ? nil : $0 }, time: time)))
            default:
                throw EventError(field: "event", reason: "must be deployment or incident, not \"\(kind)\"")
            }
        } catch let error as EventError {
            return .failure(error)
        } catch {
            return .failure(EventError(field: "event", reason: "\(error)"))
        }
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
