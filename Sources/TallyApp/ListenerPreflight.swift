#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IngestServer

/// Tries every address tally will listen on before any store is opened,
/// so that a second tally started by mistake stops at once with one line
/// naming the conflict, and the first one keeps every packet. The UDP
/// probe binds without SO_REUSEPORT: Linux would let a second process join
/// the first one's SO_REUSEPORT group and silently take part of its
/// traffic; a plain bind is refused while any socket holds the port. A Unix
/// datagram socket path is in use when something answers a connect on it.
func preflightListeners(_ config: TallyConfig) throws(ListenerError) {
    var probes: [(listener: String, address: HostPort?, type: Int32)] = [
        ("HTTP", config.http, Int32(SOCK_STREAM.rawValue)),
        ("OTLP", config.otlpListen, Int32(SOCK_STREAM.rawValue)),
        ("StatsD over UDP", config.statsd.udp, Int32(SOCK_DGRAM.rawValue)),
        ("StatsD over TCP", config.statsd.tcp, Int32(SOCK_STREAM.rawValue)),
        ("logs over TCP", config.logs.tcp, Int32(SOCK_STREAM.rawValue)),
        ("logs over UDP", config.logs.udp, Int32(SOCK_DGRAM.rawValue)),
        ("syslog over TCP", config.logs.syslogTCP, Int32(SOCK_STREAM.rawValue)),
        ("syslog over UDP", config.logs.syslogUDP, Int32(SOCK_DGRAM.rawValue)),
    ]
    probes.removeAll { $0.address == nil || $0.address!.port == 0 }
    for probe in probes {
        let address = probe.address! // nil ones removed just above
        if let problem = bindProblem(address, type: probe.type) {
            throw ListenerError(listener: probe.listener, address: address.description, underlying: problem)
        }
    }
    if let path = config.statsd.unixPath, !path.isEmpty, unixDatagramPathAnswers(path) {
        throw ListenerError(
            listener: "StatsD Unix datagram socket", address: path,
            underlying: "another process is receiving on it (another tally?); stop it or choose another path")
    }
}

/// Why a plain bind of `address` fails (nil when it succeeds), said as the
/// operator needs it.
private func bindProblem(_ address: HostPort, type: Int32) -> String? {
    var hints = addrinfo()
    hints.ai_socktype = type
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
    var found: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(address.host, String(address.port), &hints, &found)
    guard status == 0, let first = found else {
        return "cannot resolve \(address.host): \(String(cString: gai_strerror(status)))"
    }
    defer { freeaddrinfo(first) }
    let fd = socket(first.pointee.ai_family, type, 0)
    guard fd >= 0 else { return "cannot open a socket: \(String(cString: strerror(errno)))" }
    defer { close(fd) }
    if type == Int32(SOCK_STREAM.rawValue) {
        // As the real listener does: a port left in TIME_WAIT by an earlier run is free.
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 else { return nil }
    let code = errno
    if code == EADDRINUSE {
        return "the port is in use (another tally, or another server, holds it); stop it or choose another address"
    }
    return String(cString: strerror(code))
}

/// Whether a process receives on the Unix datagram socket at `path`.
private func unixDatagramPathAnswers(_ path: String) -> Bool {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    return connected == 0
}
