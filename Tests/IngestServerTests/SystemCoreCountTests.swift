import Testing
@testable import IngestServer

/// Defaults sized "one per core" count only the cores the process may run on.
@Suite("Cores available to the process")
struct SystemCoreCountTests {
    @Test func theAffinityMaskIsCountedBitByBit() {
        let status = "Name:\ttally\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"
        #expect(System.affinityCount(status: status) == 2)
        #expect(System.affinityCount(status: "Cpus_allowed:\t00000000,00000001\n") == 1)
        #expect(System.affinityCount(status: "Cpus_allowed:\tffffffff,ffffffff\n") == 64)
        #expect(System.affinityCount(status: "Cpus_allowed:\t0a\n") == 2)
    }

    @Test func anUnreadableOrEmptyMaskCountsAsUnknown() {
        #expect(System.affinityCount(status: "Name:\ttally\n") == nil)
        #expect(System.affinityCount(status: "Cpus_allowed:\t0\n") == nil)
        #expect(System.affinityCount(status: "Cpus_allowed:\tzz\n") == nil)
    }

    @Test func thisProcessHasAtLeastOneCoreAndNoMoreThanNIOCounts() {
        #expect(System.coreCount >= 1)
        #expect(System.affinityCount != nil)
        #expect(System.coreCount <= System.affinityCount ?? .max)
    }
}
