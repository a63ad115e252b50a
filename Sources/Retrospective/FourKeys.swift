import TelemetryModel

/// The four key metrics over one period, as the report's JSON gives them.
public struct FourKeys: Sendable, Codable, Equatable {
    public struct DeploymentFrequency: Sendable, Codable, Equatable {
        /// Successful production deploys in the period.
        public var deploys: Int
        /// Days with a successful production deploy, per week (over the period;
        /// over the 7 days ending with it for a single day).
        public var deployDaysPerWeek: Double
        @NullEncoded public var tier: Tier?

        enum CodingKeys: String, CodingKey {
            case deploys, tier
            case deployDaysPerWeek = "deploy_days_per_week"
        }
    }

    public struct LeadTime: Sendable, Codable, Equatable {
        /// Seconds from commit to production, over successful deploys.
        @NullEncoded public var median: Double?
        @NullEncoded public var p90: Double?
        public var deploys: Int
        @NullEncoded public var tier: Tier?
    }

    public struct ChangeFailureRate: Sendable, Codable, Equatable {
        /// failed ÷ deploys, nil without deploys.
        @NullEncoded public var value: Double?
        public var failed: Int
        public var deploys: Int
        @NullEncoded public var tier: Tier?
    }

    public struct TimeToRestore: Sendable, Codable, Equatable {
        /// Seconds from opened to resolved, over incidents resolved in the period.
        @NullEncoded public var median: Double?
        public var resolved: Int
        /// Incidents open at the end of the period.
        public var open: Int
        @NullEncoded public var tier: Tier?
    }

    public var deploymentFrequency: DeploymentFrequency
    public var leadTimeSeconds: LeadTime
    public var changeFailureRate: ChangeFailureRate
    public var timeToRestoreSeconds: TimeToRestore

    enum CodingKeys: String, CodingKey {
        case deploymentFrequency = "deployment_frequency"
        case leadTimeSeconds = "lead_time_seconds"
        case changeFailureRate = "change_failure_rate"
        case timeToRestoreSeconds = "time_to_restore_seconds"
    }
}

/// Computes the four keys from a history of events (docs/retrospective.md).
public struct FourKeysCalculator: Sendable {
    public let deployments: [Deployment]
    public let incidents: [Incident]
    /// An incident opening on a service within this long after a deploy
    /// counts that deploy as failed (milliseconds).
    public let failureWindowMillis: Int64

    /// Keeps the first of duplicate events: a deployment is its service,
    /// version and commit; an incident, its id and state.
    public init(events: [DeliveryEvent], failureWindowMillis: Int64 = 86_400_000) {
        var deployments: [Deployment] = []
        var incidents: [Incident] = []
        var seenDeploys = Set<String>()
        var seenIncidents = Set<String>()
        for event in events.sorted(by: { $0.time < $1.time }) {
            switch event {
            case .deployment(let deploy):
                if seenDeploys.insert("\(deploy.service)\u{0}\(deploy.version)\u{0}\(deploy.commitSHA)").inserted { deployments.append(deploy) }
            case .incident(let incident):
                if seenIncidents.insert("\(incident.id)\u{0}\(incident.state.rawValue)").inserted { incidents.append(incident) }
            }
        }
        self.deployments = deployments
        self.incidents = incidents
        self.failureWindowMillis = failureWindowMillis
        // Each service's incident openings in time order, and what incidents blame, looked up once.
        var openings: [String: [Int64]] = [:]
        var blamed = Set<String>()
        for incident in incidents where incident.state == .opened {
            openings[incident.service, default: []].append(incident.time)
            guard let cause = incident.causedBy else { continue }
            if let at = cause.firstIndex(of: "@"), at != cause.startIndex, cause.index(after: at) != cause.endIndex {
                // `SERVICE@VERSION` or `SERVICE@SHA`: a deploy of another service (or of this one, named).
                blamed.insert("\(cause[..<at])\u{0}\(cause[cause.index(after: at)...])")
            } else {
                // A version of the incident's own service, or a commit of any service (a SHA names one commit).
                blamed.insert("\(incident.service)\u{0}\(cause)")
                blamed.insert("\u{0}\(cause)")
            }
        }
        self.openings = openings
        self.blamed = blamed
    }

    private let openings: [String: [Int64]]
    private let blamed: Set<String>

    /// Whether a deploy failed: its status, an incident blaming it in
    /// `caused_by` (its version, on its own service; its commit SHA, from any
    /// service; `SERVICE@VERSION` or `SERVICE@SHA`, from any service), or an
    /// incident opening on its service within the window.
    public func failed(_ deploy: Deployment) -> Bool {
        if deploy.status != .success { return true }
        if blamed.contains("\(deploy.service)\u{0}\(deploy.version)") || blamed.contains("\(deploy.service)\u{0}\(deploy.commitSHA)")
            || blamed.contains("\u{0}\(deploy.commitSHA)")
        {
            return true
        }
        // The first opening at or after the deploy, by binary search (openings are in time order).
        guard let times = openings[deploy.service] else { return false }
        var low = 0
        var high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < deploy.time { low = mid + 1 } else { high = mid }
        }
        return low < times.count && times[low] - deploy.time <= failureWindowMillis
    }

    /// The keys over `start..<end` (milliseconds) for one service, or all
    /// when `service` is nil. `deployDaysSpan` is the span the deploy days per
    /// week are counted over, ending at `end` (at least the period); `dayOf`
    /// says which calendar day a time falls on.
    public func keys(start: Int64, end: Int64, service: String?, deployDaysSpan: Int64? = nil, dayOf: (Int64) -> Int) -> FourKeys {
        let mine = deployments.filter { $0.isProduction && (service == nil || $0.service == service) }
        let inPeriod = mine.filter { $0.time >= start && $0.time < end }
        let successes = inPeriod.filter { $0.status == .success }

        let span = max(deployDaysSpan ?? 0, end - start)
        let spanStart = end - span
        let deployDays = Set(mine.filter { $0.status == .success && $0.time >= spanStart && $0.time < end }.map { dayOf($0.time) }).count
        let weeks = Double(span) / (7 * 86_400_000)
        let daysPerWeek = weeks > 0 ? Double(deployDays) / weeks : 0
        let frequency = FourKeys.DeploymentFrequency(
            deploys: successes.count, deployDaysPerWeek: (daysPerWeek * 100).rounded() / 100,
            tier: Tier.deploymentFrequency(deployDaysPerWeek: daysPerWeek))

        let leads = successes.map { Double($0.time - $0.commitTime) / 1000 }.sorted()
        let median = Self.median(leads)
        let lead = FourKeys.LeadTime(
            median: median, p90: Self.percentile(leads, 0.9), deploys: leads.count, tier: median.map { Tier.leadTime(seconds: $0) })

        let failedCount = inPeriod.filter { failed($0) }.count
        let rate = inPeriod.isEmpty ? nil : Double(failedCount) / Double(inPeriod.count)
        let failure = FourKeys.ChangeFailureRate(
            value: rate, failed: failedCount, deploys: inPeriod.count, tier: rate.map { Tier.changeFailureRate($0) })

        let mineIncidents = incidents.filter { service == nil || $0.service == service }
        var opened: [String: Incident] = [:]
        for incident in mineIncidents where incident.state == .opened { opened[incident.id] = opened[incident.id] ?? incident }
        var restores: [Double] = []
        var resolvedIDs = Set<String>()
        for incident in mineIncidents where incident.state == .resolved && incident.time < end {
            resolvedIDs.insert(incident.id)
            guard incident.time >= start, let open = opened[incident.id] else { continue }
            restores.append(Double(max(0, incident.time - open.time)) / 1000)
        }
        let stillOpen = opened.values.filter { $0.time < end && !resolvedIDs.contains($0.id) }.count
        let restoreMedian = Self.median(restores.sorted())
        let restore = FourKeys.TimeToRestore(
            median: restoreMedian, resolved: restores.count, open: stillOpen, tier: restoreMedian.map { Tier.timeToRestore(seconds: $0) })
        return FourKeys(deploymentFrequency: frequency, leadTimeSeconds: lead, changeFailureRate: failure, timeToRestoreSeconds: restore)
    }

    /// The incidents open at `end` (opened before it, not resolved before it), oldest first.
    public func openIncidents(at end: Int64, service: String? = nil) -> [Incident] {
        let resolved = Set(incidents.filter { $0.state == .resolved && $0.time < end }.map(\.id))
        var seen = Set<String>()
        return incidents.filter { $0.state == .opened && $0.time < end && !resolved.contains($0.id) && (service == nil || $0.service == service) }
            .filter { seen.insert($0.id).inserted }
    }

    /// The middle value (the mean of the two middle ones for an even count) of sorted values.
    static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The nearest-rank percentile of sorted values: the value at rank ⌈p·n⌉.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
