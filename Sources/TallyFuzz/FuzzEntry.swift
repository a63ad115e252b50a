#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import FuzzTargets

#if TALLY_LIBFUZZER
// Built by .ci/fuzz with -sanitize=fuzzer,address. SwiftPM links an executable's main under its
// module's name, so main hands over to libFuzzer's driver, which calls `fuzzOneInput` for every
// input; TALLY_FUZZ_TARGET names the target.
nonisolated(unsafe) private var selected: FuzzTarget?

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// libFuzzer's entry point; the runtime's own main refers to it even though ours is used.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected?.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The fuzzing thread's body; not on the main actor (a closure in `main` would be, and trap).
private func runDriver(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
}

@main
struct FuzzDriver {
    static func main() {
        let name = getenv("TALLY_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = fuzzTarget(named: name) else {
            fputs("TALLY_FUZZ_TARGET must be one of: \(allFuzzTargets.map(\.name).joined(separator: " "))\n", stderr)
            exit(2)
        }
        selected = target
        // The driver runs on a thread with a 1 GiB stack: an instrumented debug build's frames are
        // many times a release build's, and the query parsers accept nesting (1,000 levels) that a
        // release server holds in far less than its threads' 8 MiB.
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 1 << 30)
        var thread = pthread_t()
        let created = pthread_create(&thread, &attributes, runDriver, nil)
        guard created == 0 else {
            fputs("cannot start the fuzzing thread: error \(created)\n", stderr)
            exit(2)
        }
        pthread_join(thread, nil)
    }
}
#else
/// Without libFuzzer: `tally-fuzz TARGET FILE...` runs the target over files (a crash's input, say).
@main
struct ReplayInputs {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = fuzzTarget(named: name) else {
            print("usage: tally-fuzz TARGET FILE...; targets: \(allFuzzTargets.map(\.name).joined(separator: " "))")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let file = fopen(path, "rb") else { print("\(path): cannot open"); exit(1) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                bytes.append(contentsOf: chunk[0..<count])
                if count < chunk.count { break }
            }
            fclose(file)
            bytes.withUnsafeBytes { target.run($0) }
            print("\(path): ok")
        }
    }
}
#endif
