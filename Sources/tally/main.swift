import NIOCore
import NIOPosix

// Swift concurrency runs on NIO's event loops, so a request does not hop between
// an event loop and a separate cooperative pool on its way through Hummingbird.
// This must happen before the first task is enqueued, hence a main.swift.
//
// One loop: the HTTP server, its connections and the tasks that serve them then share a
// thread, so a request never waits for a wake-up on another loop (a raw-series query over a
// new connection: 0.71 -> 0.61 ms, BENCHMARKS.md). Nothing heavy runs there: queries,
// rendering, push decoding and store reads go to NIO's thread pool, and the ingest
// listeners, aggregation shards and log writers have event loops of their own.
NIOSingletons.groupLoopCountSuggestion = 1
NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

/// Inside an async function the asynchronous `main()` of AsyncParsableCommand is chosen.
func runTally() async {
    await TallyCommand.main()
}
await runTally()
