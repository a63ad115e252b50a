/// One fuzz target: a name (its corpus folder under Tests/Fuzz) and what it
/// does with one input. A target must never crash, hang or leak on any
/// input; errors are expected and ignored.
public struct FuzzTarget: Sendable {
    public let name: String
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void

    public init(_ name: String, _ run: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.name = name
        self.run = run
    }
}

/// Every target, run by `.ci/fuzz` under libFuzzer and by the test suite over the committed corpus.
public let allFuzzTargets: [FuzzTarget] = wireTargets + logTargets + queryTargets + storageTargets + pushTargets

/// The target of this name.
public func fuzzTarget(named name: String) -> FuzzTarget? {
    allFuzzTargets.first { $0.name == name }
}

/// Splits an input into `parts` pieces at lengths given by its first bytes, so one
/// input can drive a decoder that takes several buffers.
func split(_ input: UnsafeRawBufferPointer, into parts: Int) -> [[UInt8]] {
    var pieces: [[UInt8]] = []
    var offset = min(parts - 1, input.count)
    let lengths = Array(input.prefix(parts - 1))
    for k in 0..<parts {
        let remaining = input.count - offset
        let length = k < lengths.count && k < parts - 1 ? min(Int(lengths[k]), remaining) : remaining
        pieces.append(Array(input[offset..<offset + length]))
        offset += length
    }
    return pieces
}
