import Testing
@testable import IngestServer

@Suite("Message framing")
struct MessageFramerTests {
    /// Feeds `reads` and returns the messages with the bytes each lost.
    func frame(_ reads: [String], mode: MessageFramer.Mode = .lines, max: Int = 100, finish: Bool = true) -> [String] {
        var framer = MessageFramer(mode: mode, maxBytes: max)
        var out: [String] = []
        for read in reads {
            Array(read.utf8).withUnsafeBytes { bytes in
                framer.feed(bytes) { message, cut in out.append(String(decoding: message, as: UTF8.self) + (cut > 0 ? "+\(cut)" : "")) }
            }
        }
        if finish { framer.finish { message, cut in out.append(String(decoding: message, as: UTF8.self) + (cut > 0 ? "+\(cut)" : "")) } }
        return out
    }

    @Test func linesAcrossReads() {
        #expect(frame(["a\nb", "c\r\n\nd"]) == ["a", "bc", "d"])
        #expect(frame(["a\nb"], finish: false) == ["a"])
    }

    @Test func overLongLinesAreCutNotSkipped() {
        #expect(frame(["0123456789\nok\n"], max: 4) == ["0123+6", "ok"])
        #expect(frame(["0123", "4567", "89\nok"], max: 4) == ["0123+6", "ok"])
        #expect(frame(["01", "23456789"], max: 4, finish: true) == ["0123+6"])
    }

    @Test func syslogOctetCountingAndNewlinesMix() {
        let reads = ["12 <13>1 - a b", "c 5 <1>xx\n<13>plain line\n", "3 abc"]
        #expect(frame(reads, mode: .syslog) == ["<13>1 - a bc", "<1>xx", "<13>plain line", "abc"])
    }

    @Test func syslogOctetCountSplitInItsDigits() {
        #expect(frame(["1", "7 <13>1 - - - ", "- - -"], mode: .syslog) == ["<13>1 - - - - - -"])
    }

    @Test func syslogOctetCountedMessageOverTheLimit() {
        #expect(frame(["10 0123456789ok\n"], mode: .syslog, max: 4) == ["0123+6", "ok"])
    }

    /// Kept as received; the seven bytes the count promised never arrived, so
    /// they are not reported as cut (nor counted as received).
    @Test func unfinishedOctetCountAtEndOfStream() {
        #expect(frame(["10 abc"], mode: .syslog) == ["abc"])
        #expect(frame(["2147483647 abc"], mode: .syslog, max: 2) == ["ab+1"])
    }
}
