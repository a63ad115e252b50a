import Hummingbird
import NIOCore

/// `/metrics` (tally's own figures, Prometheus text format), `/healthz`
/// (the process answers) and `/readyz` (every listener is bound).
struct OperationalRoutes: Sendable {
    let dependencies: APIDependencies

    func register(on router: Router<TallyRequestContext>) {
        router.get("/metrics") { _, _ -> Response in
            let bytes = dependencies.registry.emitToBuffer()
            var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: buffer))
        }
        router.get("/healthz") { _, _ in
            plain(.ok, "ok\n")
        }
        router.get("/readyz") { _, _ in
            dependencies.isReady() ? plain(.ok, "ready\n") : plain(.serviceUnavailable, "not ready: listeners are still binding\n")
        }
    }

    private func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
