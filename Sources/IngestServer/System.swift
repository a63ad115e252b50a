import Foundation
import NIOCore

/// Facts about the machine that defaults depend on.
public enum System {
    /// Logical cores the process may run on: NIO's count (the machine's
    /// cores, or a cgroup's CPU quota or cpuset), further limited by the
    /// process's CPU affinity (`taskset`, systemd's `CPUAffinity=`), as Go
    /// sizes GOMAXPROCS; a shard or socket reader per core it cannot use
    /// would only take turns on the ones it can.
    public static var coreCount: Int {
        max(1, min(NIOCore.System.coreCount, affinityCount ?? .max))
    }

    /// CPUs in the process's affinity mask (`Cpus_allowed` in
    /// /proc/self/status, a comma-separated hex mask), or nil where it
    /// cannot be read. Glibc's `sched_getaffinity` is not visible to Swift.
    static var affinityCount: Int? {
        #if os(Linux)
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return affinityCount(status: status)
        #else
        return nil
        #endif
    }

    /// The CPUs of the `Cpus_allowed:` line of a /proc status text.
    static func affinityCount(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        var count = 0
        for c in line.dropFirst("Cpus_allowed:".count) where c != "," && c != " " && c != "\t" {
            guard let nibble = c.hexDigitValue else { return nil }
            count += nibble.nonzeroBitCount
        }
        return count > 0 ? count : nil
    }
}
