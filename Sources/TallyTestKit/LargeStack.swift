import Foundation

/// Runs `body` on a thread with a 64 MiB stack and waits for it. Tests of the
/// query languages' depth bounds need it: the server's threads have 8 MiB,
/// enough for a release build (about 1 KiB per level of a query), but a debug
/// build's frames are ten times larger (800 nested parentheses took 8 MiB).
public func onLargeStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    let result = ResultBox<T>()
    let thread = Thread {
        result.value = body()
        done.signal()
    }
    thread.stackSize = 64 << 20
    thread.start()
    done.wait()
    return result.value!
}

/// Unchecked: written once by the thread before it signals, read after the wait.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
