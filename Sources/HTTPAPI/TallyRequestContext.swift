import Hummingbird
import NIOCore

/// The context of every tally route: Hummingbird's basic one, plus who is
/// asking (the peer's address, and the credential the web config accepted),
/// which the push rate limit counts clients by.
public struct TallyRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The basic-auth user or bearer token name that authenticated the request, if any.
    public var credential: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// A client's identity for per-client limits: its credential, else its IP address.
    var clientKey: String {
        if let credential { return "credential:" + credential }
        return "address:" + (remoteAddress?.ipAddress ?? "unknown")
    }
}
