/// The web UI's files, embedded in the binary so that a tally copied alone
/// (the container image holds only the executable) still serves its pages,
/// with nothing fetched from elsewhere.
public enum UIAssets {
    /// A file as the HTTP layer serves it.
    public struct Asset: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
        /// A strong validator for `ETag` / `If-None-Match`: a hash of the bytes.
        public let etag: String
    }

    /// The files under `/ui/`, by name (the names SwiftPM's embedding keeps: flat, one folder).
    public static let files: [String: Asset] = {
        let embedded: [(String, [UInt8])] = [
            ("ui.css", PackageResources.ui_css),
            ("icon.svg", PackageResources.icon_svg),
            ("nav.js", PackageResources.nav_js),
            ("api.js", PackageResources.api_js),
            ("plot.js", PackageResources.plot_js),
            ("dom.js", PackageResources.dom_js),
            ("complete.js", PackageResources.complete_js),
            ("promql-words.js", PackageResources.promql_words_js),
            ("logql-words.js", PackageResources.logql_words_js),
            ("time.js", PackageResources.time_js),
            ("graph.html", PackageResources.graph_html),
            ("graph.js", PackageResources.graph_js),
            ("cardinality.html", PackageResources.cardinality_html),
            ("cardinality.js", PackageResources.cardinality_js),
            ("logs.html", PackageResources.logs_html),
            ("logs.js", PackageResources.logs_js),
            ("report.html", PackageResources.report_html),
            ("report.js", PackageResources.report_js),
            ("status.html", PackageResources.status_html),
            ("status.js", PackageResources.status_js),
        ]
        return Dictionary(uniqueKeysWithValues: embedded.map { name, bytes in
            (name, Asset(bytes: bytes, contentType: contentType(of: name), etag: etag(of: bytes)))
        })
    }()

    /// The pages: the path a browser opens, and the file that is its HTML.
    public static let pages: [String: String] = [
        "/graph": "graph.html",
        "/logs": "logs.html",
        "/report": "report.html",
        "/cardinality": "cardinality.html",
        "/status": "status.html",
    ]

    /// Where `/` sends a browser.
    public static let home = "/graph"

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: "application/octet-stream"
        }
    }

    /// FNV-1a, 64 bits, quoted as an entity tag.
    static func etag(of bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
    }
}
