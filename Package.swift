// swift-tools-version: 6.1
import PackageDescription

/// Swift settings shared by every target: Swift 6 language mode with strict
/// concurrency is the package default; these add what we want on top.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// The hot-path modules (parse, ring, aggregate) state their thread
/// confinement in comments and are exercised under the default checks in
/// debug; in release, dynamic exclusivity checks cost more than the work on
/// each line, so they are off there.
let hotPath: [SwiftSetting] = strict + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "tally",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tally", targets: ["tally"]),
        .executable(name: "tally-bench", targets: ["TallyBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // MARK: Pure value types and protocols at the seams.
        .target(name: "TelemetryModel", swiftSettings: strict),

        // MARK: Wire formats (parse in place, no I/O).
        .target(name: "StatsDWire", dependencies: ["TelemetryModel"], swiftSettings: hotPath),
        .target(name: "LogWire", dependencies: ["TelemetryModel"], swiftSettings: hotPath),

        // MARK: Protobuf in place: remote_write and Loki push messages.
        .target(name: "ProtobufWire", dependencies: ["BlockCodec"], swiftSettings: hotPath),

        // MARK: Lock-free plumbing.
        .target(name: "RingBuffers", swiftSettings: hotPath),

        // MARK: Aggregation shards (pure: time is passed in).
        .target(
            name: "Aggregation",
            dependencies: [
                "TelemetryModel", "StatsDWire", "RingBuffers",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: hotPath
        ),

        // MARK: Compression and checksums from the system's libz.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .target(name: "BlockCodec", dependencies: ["CZlib", "CSnappy"], swiftSettings: strict),

        // MARK: Files both stores share: POSIX wrappers, directory lock, WAL framing and replay.
        .target(name: "DurableFiles", dependencies: ["BlockCodec"], swiftSettings: strict),

        // MARK: Storage: WAL, head, blocks, compaction, retention.
        .target(
            name: "TimeSeriesStorage",
            dependencies: [
                "TelemetryModel", "BlockCodec", "DurableFiles",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: Log store: WAL, head, compressed chunks in segment files, retention.
        .target(
            name: "LogStorage",
            dependencies: [
                "TelemetryModel", "BlockCodec", "DurableFiles", "LogWire",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: Query languages.
        .target(name: "PromQL", dependencies: ["TelemetryModel"], swiftSettings: strict),
        .target(name: "LogQL", dependencies: ["TelemetryModel", "LogWire", "LogStorage"], swiftSettings: strict),

        // MARK: The daily retrospective: the four keys and service health.
        .target(name: "Retrospective", dependencies: ["TelemetryModel", "LogStorage", "LogQL", "PromQL"], swiftSettings: strict),

        // MARK: Network edges.
        .target(
            name: "IngestServer",
            dependencies: [
                "TelemetryModel", "StatsDWire", "RingBuffers", "Aggregation", "LogWire", "LogStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HTTPAPI",
            dependencies: [
                "TelemetryModel", "PromQL", "LogQL", "LogStorage", "LogWire", "BlockCodec", "Retrospective", "ProtobufWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: Forwarding to distributed engines: remote_write out of the WAL.
        .target(
            name: "Forwarding",
            dependencies: [
                "TelemetryModel", "TimeSeriesStorage", "ProtobufWire", "BlockCodec", "DurableFiles",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // MARK: Composition and the executable.
        .target(
            name: "TallyApp",
            dependencies: [
                "TelemetryModel", "Aggregation", "IngestServer", "HTTPAPI", "TimeSeriesStorage", "PromQL",
                "DurableFiles", "LogStorage", "LogWire", "LogQL", "Retrospective", "Forwarding",
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tally",
            dependencies: [
                "Retrospective",
                "TallyApp", "TelemetryModel", "TimeSeriesStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "TallyBench",
            dependencies: [
                "LogStorage", "LogWire",
                "DurableFiles",
                "StatsDWire", "RingBuffers", "Aggregation", "TelemetryModel", "TimeSeriesStorage", "PromQL", "TallyApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // MARK: Test support.
        .target(
            name: "TallyTestKit",
            dependencies: [
                "TelemetryModel",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),

        // MARK: Tests, beside the module they test.
        .testTarget(name: "TelemetryModelTests", dependencies: ["TelemetryModel"], swiftSettings: strict),
        .testTarget(name: "StatsDWireTests", dependencies: ["StatsDWire", "TelemetryModel", "TallyTestKit"], swiftSettings: strict),
        .testTarget(name: "LogWireTests", dependencies: ["LogWire", "TelemetryModel", "TallyTestKit"], swiftSettings: strict),
        .testTarget(
            name: "RetrospectiveTests", dependencies: ["Retrospective", "LogStorage", "LogWire", "TelemetryModel", "TallyTestKit"],
            exclude: ["Golden"], swiftSettings: strict),
        .testTarget(name: "LogQLTests", dependencies: ["LogQL", "LogStorage", "LogWire", "TelemetryModel", "TallyTestKit"], swiftSettings: strict),
        .testTarget(name: "LogStorageTests", dependencies: ["LogStorage", "LogWire", "TelemetryModel", "DurableFiles", "TallyTestKit"], swiftSettings: strict),
        .testTarget(name: "RingBuffersTests", dependencies: ["RingBuffers"], swiftSettings: strict),
        .testTarget(name: "ProtobufWireTests", dependencies: ["ProtobufWire", "TallyTestKit"], swiftSettings: strict),
        .testTarget(name: "ForwardingTests", dependencies: ["Forwarding", "TelemetryModel"], swiftSettings: strict),
        .testTarget(name: "AggregationTests", dependencies: ["Aggregation", "StatsDWire", "TelemetryModel", "TallyTestKit"], swiftSettings: strict),
        .testTarget(name: "BlockCodecTests", dependencies: ["BlockCodec", "TallyTestKit"], swiftSettings: strict),
        .testTarget(
            name: "TimeSeriesStorageTests",
            dependencies: [
                "DurableFiles",
                "TimeSeriesStorage", "TelemetryModel", "BlockCodec", "TallyTestKit",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "PromQLTests", dependencies: ["PromQL", "TelemetryModel", "TallyTestKit", "TimeSeriesStorage"], swiftSettings: strict),
        .testTarget(
            name: "IngestServerTests",
            dependencies: [
                "IngestServer", "Aggregation", "StatsDWire", "TelemetryModel", "TallyTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "TimeSeriesStorage", "TelemetryModel", "TallyTestKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TallyAppTests",
            dependencies: [
                "TallyApp", "TelemetryModel", "IngestServer", "LogStorage", "Retrospective", "TimeSeriesStorage", "TallyTestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TallyTestKit", "TelemetryModel", "BlockCodec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Stubs"],
            swiftSettings: strict
        ),
    ]
)
