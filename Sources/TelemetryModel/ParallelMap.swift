#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// The cores a parallel loop may use.
public let processorCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

/// `(0..<count).map(body)`, spread over the cores: each worker takes every
/// `workers`-th index and initialises its own elements of the result. Below
/// `serialBelow` items it runs on the caller's thread, where a hand-off
/// would cost more than it saves.
public func parallelMap<T>(count: Int, serialBelow: Int = 8, _ body: @Sendable (Int) -> T) -> [T] {
    guard count >= serialBelow, processorCount > 1 else { return (0..<count).map(body) }
    let workers = min(count, processorCount)
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        let slots = DisjointSlots(base: buffer)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: count, by: workers) {
                (slots.base.baseAddress! + index).initialize(to: body(index))
            }
        }
        initialized = count
    }
}

/// The result's storage, which the workers fill, each its own indices.
private struct DisjointSlots<T>: @unchecked Sendable {
    // Unchecked: parallelMap splits the indices so that every slot is
    // initialised by exactly one worker, reads nothing before
    // `concurrentPerform` returns, and the buffer outlives that call.
    let base: UnsafeMutableBufferPointer<T>
}
