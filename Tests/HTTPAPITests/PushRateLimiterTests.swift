import Testing
@testable import HTTPAPI

@Suite("Push rate per client")
struct PushRateLimiterTests {
    let start = ContinuousClock.now

    @Test func aClientMaySendItsBurstThenWaitsForItsDebtToBePaid() {
        let limiter = PushRateLimiter(bytesPerSecond: 1_000, burst: 2_000)
        #expect(limiter.admit(client: "a", bytes: 1_500, now: start) == nil)
        #expect(limiter.admit(client: "a", bytes: 1_500, now: start) == nil, "500 tokens left: let through, now 1,000 in debt")
        #expect(limiter.admit(client: "a", bytes: 10, now: start) == 1, "1,000 bytes of debt at 1,000/s: retry after 1 s")
        #expect(limiter.admit(client: "a", bytes: 10, now: start + .milliseconds(900)) == 1)
        #expect(limiter.admit(client: "a", bytes: 10, now: start + .milliseconds(1_100)) == nil, "the debt is paid")
    }

    @Test func clientsAreCountedApartAndALargePushIsNotRefusedForItsSize() {
        let limiter = PushRateLimiter(bytesPerSecond: 1_000, burst: 1_000)
        #expect(limiter.admit(client: "a", bytes: 50_000, now: start) == nil, "size is the body limits' job")
        #expect(limiter.admit(client: "a", bytes: 1, now: start) == 49)
        #expect(limiter.admit(client: "b", bytes: 1, now: start) == nil, "another client is not slowed")
    }

    @Test func idleClientsAreForgottenWhenTheTableIsFull() {
        let limiter = PushRateLimiter(bytesPerSecond: 1_000, burst: 1_000)
        for k in 0..<PushRateLimiter.maxClients { _ = limiter.admit(client: "c\(k)", bytes: 1, now: start) }
        // An hour later every bucket is full again: a new client makes room instead of growing the table.
        #expect(limiter.admit(client: "new", bytes: 1, now: start + .seconds(3_600)) == nil)
        #expect(limiter.admit(client: "c1", bytes: 2_000, now: start + .seconds(3_600)) == nil, "forgotten: a fresh bucket")
    }
}
