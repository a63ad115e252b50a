/// What a request's `Authorization` header proved.
public enum Authentication: Sendable, Equatable {
    /// A known user or token, with what it may do.
    case granted(name: String, scopes: AccessScopes)
    /// No credentials, or credentials of a kind the config does not take.
    case missing
    /// Credentials that are wrong; the reason is for the log, never for the client.
    case rejected(reason: String)
    /// Too many password checks are already running; the client should retry.
    case busy
}
