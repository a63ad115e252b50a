import NIOCore
import NIOSSL

/// TLS for a stream listener (StatsD TCP, logs TCP, syslog TCP as RFC 5425
/// carries it): each new connection is served with the context in force
/// when it arrives, taken from the web config, so a renewed certificate
/// applies to the next connection as on the HTTP listeners.
public struct StreamTLS: Sendable {
    /// The context for a new connection; nil closes it (TLS is on but no context serves).
    public let context: @Sendable () -> NIOSSLContext?

    public init(context: @escaping @Sendable () -> NIOSSLContext?) {
        self.context = context
    }

    /// Puts the TLS handler first in a new connection's pipeline.
    func secure(_ channel: any Channel) throws {
        guard let context = context() else { throw NIOSSLError.noCertificateToValidate }
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
    }
}
