import BlockCodec

/// Times the head chunk's codings: encoding and decoding per sample, and
/// bytes per sample, with integer coding allowed (tally's head) and with
/// XOR only (Gorilla, as Prometheus's head), on the same series.
func timeHeadChunks(chunks: Int, runs: Int) {
    var rng = SystemRandomNumberGenerator()
    let times = (0..<120).map { 1_704_067_200_000 + Int64($0) * 10_000 }
    func shape(_ name: String, _ next: () -> Double) -> (String, [[Double]]) {
        (name, (0..<chunks).map { _ in (0..<120).map { _ in next() } })
    }
    var total = 1_000.0
    var steady = 0.0
    var gauge = 50.0
    let shapes = [
        shape("counters, random increments 0-1000") { total += Double(Int.random(in: 0...1_000, using: &rng)); return total },
        shape("counters, steady +250") { steady += 250; return steady },
        shape("float gauges, random walk") { gauge += Double.random(in: -1...1, using: &rng); return gauge },
    ]
    let clock = ContinuousClock()
    for (name, series) in shapes {
        for integers in [false, true] {
            var bestEncode = Duration.seconds(1_000)
            var bestDecode = Duration.seconds(1_000)
            var bytes = 0
            var checksum = 0.0
            for _ in 0..<runs {
                var encoded: [(bytes: [UInt8], count: Int)] = []
                encoded.reserveCapacity(series.count)
                let started = clock.now
                for values in series {
                    var chunk = HeadChunk(integers: integers)
                    for (t, v) in zip(times, values) { chunk.append(t, v) }
                    encoded.append((chunk.bytes, chunk.count))
                }
                bestEncode = min(bestEncode, clock.now - started)
                bytes = encoded.reduce(0) { $0 + $1.bytes.count }
                let decodeStarted = clock.now
                for (chunkBytes, count) in encoded {
                    chunkBytes.withUnsafeBytes { raw in
                        guard var decoder = try? HeadChunkDecoder(raw, count: count) else { return }
                        while let (_, v) = try? decoder.next() { checksum += v }
                    }
                }
                bestDecode = min(bestDecode, clock.now - decodeStarted)
            }
            let samples = Double(series.count * times.count)
            print("head chunk, \(name), \(integers ? "integer coding allowed" : "XOR only"): "
                + "\(format2(Double(bytes) / samples)) bytes/sample, "
                + "encode \(format2(nanos(bestEncode) / samples)) ns/sample, decode \(format2(nanos(bestDecode) / samples)) ns/sample"
                + (checksum.isNaN ? " (NaN)" : ""))
        }
    }
}

private func nanos(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
}
