/// Result slots that concurrent workers fill, each worker its own indices:
/// how a parallel loop (`DispatchQueue.concurrentPerform`) hands back one
/// result per item without a lock.
public struct DisjointSlots<T>: @unchecked Sendable {
    // Unchecked: callers split the indices between workers so that every slot
    // is written by exactly one of them, read nothing until the parallel loop
    // has returned, and keep the buffer alive across that call.
    public let base: UnsafeMutableBufferPointer<T>

    public init(base: UnsafeMutableBufferPointer<T>) {
        self.base = base
    }
}
