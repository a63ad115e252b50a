#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A port that was free a moment ago on 127.0.0.1 for both TCP and UDP, for
/// tests that must pass a port to a child process.
public func freePort() -> Int {
    for _ in 0..<200 {
        // Below the kernel's ephemeral range (32768-60999 by default): a port taken from that range
        // and closed again can be given to any outgoing connection (a test's HTTP client, a peer
        // server's) before tally binds it, which failed a start with "Address already in use".
        let candidate = Int.random(in: 20_000..<32_768)
        guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
        if isFree(candidate) { return candidate }
    }
    return 0
}

/// Ports this process has handed out, so two callers never get the same one.
private let handedOut = Mutex<Set<Int>>([])

/// Whether `port` can be bound on 127.0.0.1 for TCP and for UDP right now.
private func isFree(_ port: Int) -> Bool {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    for kind in [Int32(SOCK_STREAM.rawValue), Int32(SOCK_DGRAM.rawValue)] {
        let fd = socket(AF_INET, kind, 0)
        defer { close(fd) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 { return false }
    }
    return true
}
