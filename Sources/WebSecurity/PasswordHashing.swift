import HummingbirdBcrypt

/// bcrypt hashes for `basic_auth_users`, as `tally hash-password` prints them.
public enum PasswordHashing {
    /// The work factors bcrypt takes; each step doubles the time of a check.
    public static let costs: ClosedRange<Int> = 4...31

    /// A `$2b$` hash of `password` with a fresh salt; nil for a cost outside `costs`.
    public static func bcrypt(_ password: String, cost: Int) -> String? {
        guard costs.contains(cost) else { return nil }
        return Bcrypt.hash(password, cost: UInt8(cost))
    }

    /// True when `password` matches a `$2a$`, `$2b$` or `$2y$` hash.
    public static func verify(_ password: String, hash: String) -> Bool {
        Bcrypt.verify(password, hash: WebAccess.bcryptVariantB(hash))
    }
}
