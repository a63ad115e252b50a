import Hummingbird
import TelemetryModel

/// Builds the router of every HTTP endpoint tally serves.
public func buildAPIRouter(_ dependencies: APIDependencies) -> Router<BasicRequestContext> {
    let router = Router()
    PrometheusRoutes(dependencies: dependencies).register(on: router)
    EventRoutes(dependencies: dependencies).register(on: router)
    OperationalRoutes(dependencies: dependencies).register(on: router)
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
    return router
}
