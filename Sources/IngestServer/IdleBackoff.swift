/// How long a ring's consumer (an aggregation shard, a log writer) waits
/// before it looks again after `ticks` looks in a row found nothing: 1 ms for
/// the first 100 (traffic that pauses is picked up at once), 5 ms up to about
/// a second, then 50 ms, so that an idle tally wakes 20 times a second per
/// consumer instead of 200. A ring holds far more than 50 ms of traffic at
/// full speed (1024 batches of 64 KiB), so the first lines after a pause wait
/// at most that long and none are lost for it.
func idleWaitMillis(afterIdleTicks ticks: Int) -> Int64 {
    ticks < 100 ? 1 : ticks < 300 ? 5 : 50
}
