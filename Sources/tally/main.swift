import NIOCore
import NIOPosix

// One loop in NIO's shared group: the HTTP server and its connections share a thread,
// so a request never waits for a wake-up on another loop. Nothing heavy runs there:
// queries, rendering, push decoding and store reads go to NIO's thread pool, and the
// ingest listeners, aggregation shards and log writers have event loops of their own.
//
// Swift tasks run on Swift's own cooperative pool, not on that loop: with the loop
// installed as the global executor, a tally under load was seen to stop running tasks
// for good (the loop thread blocked in swift-async-algorithms' merge lock while running a
// job), and then ignored SIGTERM. This must happen before the first task, hence a main.swift.
NIOSingletons.groupLoopCountSuggestion = 1

/// Inside an async function the asynchronous `main()` of AsyncParsableCommand is chosen.
func runTally() async {
    await TallyCommand.main()
}
await runTally()
