#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A socket error in a test helper, with the call that failed.
public struct SocketError: Error, CustomStringConvertible {
    public var description: String
}

private func ipv4(_ host: String, _ port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr(host)
    return address
}

/// Sends one UDP datagram.
public func sendUDP(_ bytes: [UInt8], host: String = "127.0.0.1", port: Int) throws {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw SocketError(description: "socket: \(errno)") }
    defer { close(fd) }
    var address = ipv4(host, port)
    let sent = bytes.withUnsafeBytes { buffer in
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
    guard sent == bytes.count else { throw SocketError(description: "sendto: \(errno)") }
}

/// Opens a TCP connection, writes everything, and closes it.
public func sendTCP(_ bytes: [UInt8], host: String = "127.0.0.1", port: Int) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SocketError(description: "socket: \(errno)") }
    defer { close(fd) }
    var address = ipv4(host, port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw SocketError(description: "connect: \(errno)") }
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        guard written > 0 else { throw SocketError(description: "write: \(errno)") }
        offset += written
    }
    shutdown(fd, Int32(SHUT_WR))
}

/// Sends one datagram to a Unix datagram socket.
public func sendUnixDatagram(_ bytes: [UInt8], path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw SocketError(description: "socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let pathBytes = Array(path.utf8)
    guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
        throw SocketError(description: "path too long")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, byte) in pathBytes.enumerated() { raw[i] = byte }
        raw[pathBytes.count] = 0
    }
    let sent = bytes.withUnsafeBytes { buffer in
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
    guard sent == bytes.count else { throw SocketError(description: "sendto: \(errno)") }
}

/// Listens on a TCP port, so that a test can see a "port in use" error.
public final class PortBlocker {
    private let fd: Int32
    public let port: Int

    public init(port: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = ipv4("127.0.0.1", port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else {
            close(descriptor)
            throw SocketError(description: "bind: \(errno)")
        }
        fd = descriptor
        self.port = port
    }

    deinit { close(fd) }
}
