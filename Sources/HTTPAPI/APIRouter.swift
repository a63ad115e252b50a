import Hummingbird
import Logging
import TelemetryModel

/// Builds the router of every HTTP endpoint tally serves.
public func buildAPIRouter(_ dependencies: APIDependencies) -> Router<TallyRequestContext> {
    let router = Router(context: TallyRequestContext.self)
    addAccessControl(to: router, dependencies)
    PrometheusRoutes(dependencies: dependencies).register(on: router)
    EventRoutes(dependencies: dependencies).register(on: router)
    OperationalRoutes(dependencies: dependencies).register(on: router)
    StatusRoutes(dependencies: dependencies).register(on: router)
    UIRoutes().register(on: router)
    if let sink = dependencies.sampleSink {
        RemoteWriteRoutes(dependencies: dependencies, sink: sink).register(on: router)
    }
    if let intake = dependencies.aggregateIntake {
        AggregateRoutes(dependencies: dependencies, intake: intake).register(on: router)
    }
    if let store = dependencies.logStore {
        LokiRoutes(dependencies: dependencies, store: store).register(on: router)
        RetrospectiveRoutes(dependencies: dependencies, store: store).register(on: router)
    }
    if let reload = dependencies.reloadWebConfig {
        ReloadRoute(reload: reload).register(on: router)
    }
    return router
}

/// Puts the web config in front of every route registered after it (Hummingbird
/// wraps each route with the middleware present when the route is added).
func addAccessControl(to router: Router<TallyRequestContext>, _ dependencies: APIDependencies) {
    var logger = Logger(label: "tally")
    logger[metadataKey: "component"] = "http-access"
    let metrics = AccessMetrics(registry: dependencies.registry)
    router.add(middleware: AccessMiddleware(access: dependencies.access, metrics: metrics, logger: logger))
    if let limiter = dependencies.pushRateLimiter {
        router.add(middleware: PushRateMiddleware(limiter: limiter, metrics: metrics))
    }
}
