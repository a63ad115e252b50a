/// The performance tiers of the DORA research (docs/retrospective.md cites
/// the thresholds: Accelerate State of DevOps 2023).
public enum Tier: String, Sendable, Codable, Comparable {
    case elite, high, medium, low

    private var rank: Int {
        switch self {
        case .elite: 0
        case .high: 1
        case .medium: 2
        case .low: 3
        }
    }

    public static func < (lhs: Tier, rhs: Tier) -> Bool { lhs.rank < rhs.rank }

    /// Deployment frequency, by deploy days (days with at least one successful
    /// production deploy) as Apache DevLake counts them, not by deploys: ten
    /// deploys in one afternoon are one deploy day. On demand (elite): three
    /// deploy days a week or more; high: at least one a week; medium: at
    /// least one a month (7/30 a week); low: fewer.
    public static func deploymentFrequency(deployDaysPerWeek: Double) -> Tier {
        if deployDaysPerWeek >= 3 { return .elite }
        if deployDaysPerWeek >= 1 { return .high }
        if deployDaysPerWeek >= 7.0 / 30.0 { return .medium }
        return .low
    }

    /// Lead time for changes (seconds): under a day elite, under a week high,
    /// under a month (30 days) medium.
    public static func leadTime(seconds: Double) -> Tier {
        if seconds < 86_400 { return .elite }
        if seconds < 7 * 86_400 { return .high }
        if seconds < 30 * 86_400 { return .medium }
        return .low
    }

    /// Change failure rate (0…1): up to 5% elite, 10% high, 15% medium.
    public static func changeFailureRate(_ rate: Double) -> Tier {
        if rate <= 0.05 { return .elite }
        if rate <= 0.10 { return .high }
        if rate <= 0.15 { return .medium }
        return .low
    }

    /// Time to restore service (seconds): under an hour elite, under a day
    /// high, under a week medium.
    public static func timeToRestore(seconds: Double) -> Tier {
        if seconds < 3_600 { return .elite }
        if seconds < 86_400 { return .high }
        if seconds < 7 * 86_400 { return .medium }
        return .low
    }
}
