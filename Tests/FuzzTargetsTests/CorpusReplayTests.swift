import Foundation
import FuzzTargets
import TallyTestKit
import Testing

/// Replays every input committed under Tests/Fuzz through its target, without
/// a sanitizer: an input that once crashed, hung or leaked (and the seeds)
/// must now pass, so a regression fails CI. `.ci/fuzz` grows the corpus.
@Suite("Fuzz corpus replay")
struct CorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    @Test func everyTargetHasASeedCorpus() throws {
        for target in allFuzzTargets {
            let inputs = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.appendingPathComponent(target.name).path)
            #expect(!inputs.isEmpty, "Tests/Fuzz/\(target.name) is empty")
        }
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
        #expect(Set(folders) == Set(allFuzzTargets.map(\.name)), "a corpus folder without a target, or the reverse")
    }

    @Test(arguments: allFuzzTargets.map(\.name))
    func everyCommittedInputRunsWithoutCrashing(_ name: String) throws {
        let target = try #require(fuzzTarget(named: name))
        let folder = Self.corpus.appendingPathComponent(name)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { file in
            try [UInt8](Data(contentsOf: folder.appendingPathComponent(file)))
        }
        // A debug build's frames are ten times a release build's: deeply nested queries need the room.
        onLargeStack {
            for bytes in inputs { bytes.withUnsafeBytes { target.run($0) } }
        }
    }
}
