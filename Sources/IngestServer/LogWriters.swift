import Logging
import LogStorage
import LogWire
import NIOCore
import NIOPosix
import RingBuffers
import TelemetryModel

/// The log writer shards: each drains its own lock-free ring of batches on
/// its own thread and appends them to the store (where WAL writes and chunk
/// compression happen). A stream always goes to the same lane, so its
/// entries keep their order. A batch the store cannot take (a WAL error)
/// waits at the head of its lane and is retried; its ring then fills, which
/// slows TCP senders and drops (counted) on UDP.
public final class LogWriters: Sendable {
    /// One lane. Invariant that makes the unchecked `Sendable` sound: after
    /// `init`, `stalled`, `idleTicks` and `stopped` are only touched on
    /// `eventLoop` (every tick and the final drain are submitted to it).
    final class Lane: @unchecked Sendable {
        let ring: MPMCRing<LogBatch>
        let eventLoop: any EventLoop
        var stalled: LogBatch?
        var idleTicks = 0
        var stopped = false

        init(ringCapacity: Int, eventLoop: any EventLoop) {
            ring = MPMCRing(minimumCapacity: ringCapacity)
            self.eventLoop = eventLoop
        }
    }

    private let store: LogStore
    private let lanes: [Lane]
    private let group: MultiThreadedEventLoopGroup
    private let clock: any WallClock
    private let metrics: LogIngestMetrics
    private let logger: Logger

    public init(store: LogStore, lanes count: Int, ringCapacity: Int, clock: any WallClock, metrics: LogIngestMetrics, logger: Logger) {
        self.store = store
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, count))
        let loops = Array(group.makeIterator())
        lanes = (0..<max(1, count)).map { Lane(ringCapacity: ringCapacity, eventLoop: loops[$0 % loops.count]) }
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    public var laneCount: Int { lanes.count }

    /// Hands a batch to a lane; false when its ring is full.
    func push(_ batch: LogBatch, lane: Int) -> Bool {
        lanes[lane].ring.push(batch)
    }

    public func start() {
        for lane in lanes { lane.eventLoop.execute { self.tick(lane) } }
    }

    /// Stores everything still in the rings, then stops the lanes.
    public func stop() async {
        for lane in lanes {
            _ = try? await lane.eventLoop.submit {
                lane.stopped = true
                var attempts = 0
                while attempts < 100 {
                    guard self.drain(lane, limit: .max) else {
                        attempts += 1
                        continue
                    }
                    break
                }
            }.get()
        }
        try? await group.shutdownGracefully()
    }

    private func tick(_ lane: Lane) {
        guard !lane.stopped else { return }
        let before = lane.ring.approximateCount
        let healthy = drain(lane, limit: 64)
        if !healthy {
            lane.eventLoop.scheduleTask(in: .milliseconds(100)) { self.tick(lane) }
        } else if before > 0 {
            lane.idleTicks = 0
            lane.eventLoop.execute { self.tick(lane) }
        } else {
            // Every millisecond while lines flow, backing off when idle.
            lane.idleTicks += 1
            lane.eventLoop.scheduleTask(in: .milliseconds(idleWaitMillis(afterIdleTicks: lane.idleTicks))) { self.tick(lane) }
        }
    }

    /// Appends up to `limit` batches; false when the store refused to write (the batch waits).
    private func drain(_ lane: Lane, limit: Int) -> Bool {
        var done = 0
        while done < limit {
            guard let batch = lane.stalled ?? lane.ring.pop() else { return true }
            do {
                try store.append(batch, now: clock.nowNanos())
                lane.stalled = nil
            } catch {
                if lane.stalled == nil {
                    logger.error("cannot store log lines; they wait and are retried", metadata: ["error": "\(error)"])
                }
                lane.stalled = batch
                metrics.writeFailures.increment()
                return false
            }
            done += 1
        }
        return true
    }
}
