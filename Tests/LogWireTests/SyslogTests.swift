import Testing
@testable import LogWire

/// 2026-11-29T10:00:00Z, for RFC 3164's missing year.
let syslogNow: Int64 = 1_795_946_400_000_000_000

func decodeSyslog(_ text: String, now: Int64 = syslogNow) -> DecodedLog {
    var log = DecodedLog()
    Array(text.utf8).withUnsafeBytes { LogDecoder().decodeSyslog($0, now: now, into: &log) }
    return log
}

@Suite("Syslog")
struct SyslogTests {
    @Test func rfc5424FromTheGenerator() {
        let log = decodeSyslog(#"<131>1 2026-11-28T00:00:01.250Z node-03 payments - - [meta trace_id="00ab"] payment declined by provider: code 7"#)
        #expect(log.parseError == nil)
        #expect(log.lineText == "payment declined by provider: code 7")
        #expect(labels(log) == ["service": "payments", "host": "node-03", "level": "error", "source": "syslog"])
        #expect(fields(log) == ["trace_id=00ab", "facility=local0"])
        #expect(log.timestamp == 1_795_824_001_250_000_000)
    }

    @Test func rfc5424AsLoggerSendsIt() {
        let line = "<13>1 2026-11-29T10:15:02.123456+01:00 box alice 4242 ID47 [timeQuality tzKnown=\"1\" isSynced=\"0\"][x@1 a=\"q\\\"\\]\\\\\\n\"] \u{FEFF}hello world"
        let log = decodeSyslog(line)
        #expect(log.parseError == nil)
        #expect(log.lineText == "hello world")
        #expect(labels(log) == ["service": "alice", "host": "box", "level": "info", "source": "syslog"])
        #expect(fields(log) == ["pid=4242", "msgid=ID47", "tzKnown=1", "isSynced=0", #"a=q"]\\n"#, "facility=user"])
        #expect(log.timestamp == 1_795_943_702_123_456_000)
    }

    @Test func rfc5424WithNilsAndNoMessage() {
        let log = decodeSyslog("<0>1 - - - - - -")
        #expect(log.parseError == nil)
        #expect(log.lineText == "")
        #expect(log.timestamp == nil)
        #expect(labels(log) == ["level": "critical", "source": "syslog"])
        #expect(fields(log) == ["facility=kern"])
    }

    @Test func rfc3164() {
        let log = decodeSyslog("<34>Nov 29 09:58:01 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8")
        #expect(log.parseError == nil)
        #expect(log.lineText == "'su root' failed for lonvick on /dev/pts/8")
        #expect(labels(log) == ["service": "su", "host": "mymachine", "level": "critical", "source": "syslog"])
        #expect(fields(log) == ["pid=230", "facility=auth"])
        #expect(log.timestamp == 1_795_946_281_000_000_000)
    }

    @Test func rfc3164WithoutHostOrPid() {
        let log = decodeSyslog("<13>Nov  2 08:00:00 cron: job done")
        #expect(log.lineText == "job done")
        #expect(labels(log) == ["service": "cron", "level": "info", "source": "syslog"])
        #expect(log.timestamp == 1_793_606_400_000_000_000)
    }

    @Test func rfc3164FromLastYearInJanuary() {
        // A December stamp received on 1 January belongs to the year before.
        let newYear: Int64 = 1_798_761_600_000_000_000 // 2027-01-01T00:00:00Z
        let log = decodeSyslog("<13>Dec 31 23:59:59 host app: x", now: newYear)
        #expect(log.timestamp == newYear - 1_000_000_000)
    }

    @Test func rfc3164WithoutTimestamp() {
        let log = decodeSyslog("<13>just a message")
        #expect(log.parseError == nil)
        #expect(log.lineText == "just a message")
        #expect(log.timestamp == nil)
    }

    @Test(arguments: [
        ("no priority", "expected '<' and a priority", 0),
        ("<192>1 - - - - - -", "expected a priority of 0 to 191 and '>'", 4),
        ("<1x>", "expected a priority of 0 to 191 and '>'", 2),
        ("<13>1 2026-13-01T00:00:00Z h a - - - m", "bad timestamp: field out of range", 6),
        ("<13>1 - h a - -", "message ends after a message id", 15),
        ("<13>1 - h a - - x", "expected '-' or '[' for structured data", 16),
        ("<13>1 - h a - - [id a=\"x", "unterminated parameter value", 24),
        ("<13>1 - h a - - [id a=x]", "expected '\"'", 22),
    ])
    func brokenSyslogIsKeptRaw(_ line: String, _ reason: String, _ offset: Int) {
        let log = decodeSyslog(line)
        #expect(log.lineText == line)
        #expect(log.parseError == LogParseError(format: .syslog, offset: offset, reason: reason))
        #expect(labels(log) == ["parse_error": "syslog", "source": "syslog"])
    }
}
