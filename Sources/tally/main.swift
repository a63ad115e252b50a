import NIOCore
import NIOPosix

// Swift concurrency runs on NIO's event loops, so a request does not hop between
// an event loop and a separate cooperative pool on its way through Hummingbird.
// This must happen before the first task is enqueued, hence a main.swift.
NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

/// Inside an async function the asynchronous `main()` of AsyncParsableCommand is chosen.
func runTally() async {
    await TallyCommand.main()
}
await runTally()
