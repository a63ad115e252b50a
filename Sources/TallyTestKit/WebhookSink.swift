import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// An HTTP server on a free port that takes POSTs and keeps their bodies,
/// answering 503 to the first `failures` of them and 204 after: a webhook
/// receiver for tests of retries. Reads `Content-Length` bodies only.
public final class WebhookSink: Sendable {
    public let port: Int
    private let channel: any Channel
    private let recorder: Recorder

    /// What the server saw, shared by its connections.
    private final class Recorder: Sendable {
        let state: Mutex<(failuresLeft: Int, bodies: [String], attempts: Int)>

        init(failures: Int) {
            state = Mutex((failures, [], 0))
        }
    }

    public init(failures: Int = 0) async throws {
        let recorder = Recorder(failures: failures)
        self.recorder = recorder
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    /// The bodies of the requests answered 204.
    public var bodies: [String] { recorder.state.withLock { $0.bodies } }
    /// Every request received.
    public var attempts: Int { recorder.state.withLock { $0.attempts } }

    public func close() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let recorder: Recorder
        let received = Mutex([UInt8]())

        init(recorder: Recorder) {
            self.recorder = recorder
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            let bytes = received.withLock { received in
                received.append(contentsOf: buffer.readableBytesView)
                return received
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return }
            let head = text[..<end.lowerBound].lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let body = Array(text.utf8)[text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound)...]
            guard body.count >= length else { return }
            received.withLock { $0.removeAll() }
            let fail = recorder.state.withLock { state -> Bool in
                state.attempts += 1
                if state.failuresLeft > 0 {
                    state.failuresLeft -= 1
                    return true
                }
                state.bodies.append(String(decoding: body.prefix(length), as: UTF8.self))
                return false
            }
            let answer = fail ? "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n" : "HTTP/1.1 204 No Content\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        }
    }
}
