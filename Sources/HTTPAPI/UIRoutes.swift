import HTTPTypes
import Hummingbird
import NIOCore
import WebUI

/// The built-in web UI: each page's HTML at its path (`/graph` …, and `/`
/// sends the browser to `/graph`) and
/// the files it loads under `/ui/`, all embedded in the binary. Pages may
/// load and fetch only from tally itself (their Content-Security-Policy
/// says so), and every file is revalidated by its ETag.
struct UIRoutes: Sendable {
    /// Scripts, styles, requests and images from this origin only; no frames, no plug-ins.
    static let contentSecurityPolicy =
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    private static let contentTypeOptions = HTTPField.Name("X-Content-Type-Options")! // a valid field name
    private static let referrerPolicy = HTTPField.Name("Referrer-Policy")! // a valid field name

    func register(on router: Router<TallyRequestContext>) {
        for (path, file) in UIAssets.pages {
            router.get(RouterPath(path)) { request, _ in
                serve(file, request)
            }
        }
        router.get("/") { _, _ in
            Response(status: .found, headers: [.location: UIAssets.home])
        }
        router.get("/ui/{file}") { request, context in
            serve(context.parameters.get("file") ?? "", request)
        }
    }

    private func serve(_ name: String, _ request: Request) -> Response {
        guard let asset = UIAssets.files[name] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "no such file in tally's web UI: \(name)\n")))
        }
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .eTag: asset.etag,
            .cacheControl: "no-cache",
            Self.contentTypeOptions: "nosniff",
        ]
        if asset.contentType.hasPrefix("text/html") {
            headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
            headers[Self.referrerPolicy] = "no-referrer"
        }
        if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag }) == true {
            return Response(status: .notModified, headers: headers)
        }
        var buffer = ByteBufferAllocator().buffer(capacity: asset.bytes.count)
        buffer.writeBytes(asset.bytes)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }
}
