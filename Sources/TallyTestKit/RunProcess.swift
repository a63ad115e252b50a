import Foundation

/// Runs a program to its end and returns its exit status and its output
/// (stdout and stderr together), feeding `input` on stdin when given.
public func runProcess(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let stdin = Pipe()
    if input != nil { process.standardInput = stdin }
    try process.run()
    if let input {
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// `runProcess` for async code: the process is waited for on a thread of its
/// own. Blocking one of the few threads of Swift's cooperative pool (one per
/// core) stalls every other test's tasks while the child runs, which on a
/// 2-core CI machine made other tests' waits time out.
public func runProcess(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try runProcess(executable, arguments, input: input) })
        }
    }
}
