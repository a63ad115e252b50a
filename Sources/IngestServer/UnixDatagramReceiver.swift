#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Aggregation
import Foundation
import Synchronization
import TelemetryModel

/// Receives DogStatsD over a Unix datagram socket on a thread of its own.
///
/// SwiftNIO's datagram channel requires a sender address, and DogStatsD
/// clients send from unbound sockets (an empty address), which NIO rejects
/// with a precondition failure; so this path reads with plain `recv`.
///
/// Invariant that makes the unchecked `Sendable` sound: `router` and the
/// counters are touched only by the reader thread; other threads use only
/// the atomic `stopRequested`/`finished` flags and the immutable `fd`.
final class UnixDatagramReceiver: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let router: LineRouter
    private let metrics: TransportMetrics
    private let clock: any WallClock
    private let maxDatagramBytes: Int
    private let stopRequested = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private var tally = TransportTally()

    /// Creates and binds the socket (replacing a stale socket file), or throws.
    init(path: String, receiveBufferBytes: Int, maxDatagramBytes: Int, factory: RouterFactory,
         metrics: TransportMetrics, clock: any WallClock) throws {
        self.path = path
        self.metrics = metrics
        self.clock = clock
        self.maxDatagramBytes = maxDatagramBytes
        router = factory.makeRouter(policy: .drop)
        let socketFD = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard socketFD >= 0 else { throw SystemError(call: "socket", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(socketFD)
            throw SystemError(call: "bind (path longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in pathBytes.enumerated() { raw[i] = byte }
            raw[pathBytes.count] = 0
        }
        // A socket file left by an earlier run would make bind fail.
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let error = errno
            close(socketFD)
            throw SystemError(call: "bind", errno: error)
        }
        // Writable by every user, as the Datadog agent makes its socket: a sender in another
        // container or of another uid reaches it as it would reach UDP on 127.0.0.1.
        _ = chmod(path, 0o722)
        var size = Int32(clamping: receiveBufferBytes)
        _ = setsockopt(socketFD, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        fd = socketFD
    }

    /// Starts the reader thread.
    func start() {
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "tally-uds"
        thread.start()
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: maxDatagramBytes)
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !stopRequested.load(ordering: .relaxed) {
            let ready = poll(&poller, 1, 100)
            guard ready > 0 else { continue }
            let now = clock.nowMillis()
            // Drain what is queued (a bounded number), then push the batches once.
            for _ in 0..<4096 {
                let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard received >= 0 else { break }
                tally.record(bytes: received)
                buffer.withUnsafeBytes { router.ingest(lines: UnsafeRawBufferPointer(rebasing: $0[0..<received]), now: now) }
            }
            router.flush()
            tally.publish(to: metrics, router: router)
        }
        router.flush()
        finished.store(true, ordering: .releasing)
    }

    /// Stops reading, waits for the thread's last push, closes and removes the socket.
    func stop() async {
        stopRequested.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        close(fd)
        unlink(path)
    }
}

/// A failed system call, with its errno explained.
struct SystemError: Error, CustomStringConvertible {
    var call: String
    var errno: Int32
    var description: String { "\(call): \(String(cString: strerror(errno)))" }
}
