/// Tally's version: `tally --version` and `/api/v1/status/buildinfo`.
public enum TallyVersion {
    public static let current = "0.4.0"
}
