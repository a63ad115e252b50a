import Yams

/// A config file as the status endpoint shows it: the same settings with
/// every secret replaced by `<secret>`, as Prometheus shows its config: the
/// values of `password`, `bearer_token`, `credentials`, `token`, `secret`,
/// `api_key` and `webhook` keys (a chat webhook's URL is its credential),
/// every header value (they carry API keys), and the password of a URL's
/// user information.
public enum ConfigRedaction {
    public static let placeholder = "<secret>"
    static let secretKeys: Set<String> = ["password", "bearer_token", "credentials", "token", "secret", "api_key", "authorization", "webhook"]

    /// The file's YAML re-written with its secrets hidden (comments dropped);
    /// text that does not parse as YAML is not shown at all.
    public static func redact(yaml text: String) -> String {
        guard let node = try? Yams.compose(yaml: text) else { return "# the file does not parse as YAML; not shown\n" }
        return (try? Yams.serialize(node: redact(node, hideAll: false))) ?? "# the file cannot be shown\n"
    }

    static func redact(_ node: Node, hideAll: Bool) -> Node {
        switch node {
        case .scalar(let scalar):
            if hideAll { return Node(placeholder) }
            return Node(hidingURLPassword(scalar.string), scalar.tag, scalar.style)
        case .mapping(let mapping):
            let pairs = mapping.map { key, value -> (Node, Node) in
                let name = key.string?.lowercased() ?? ""
                let hide = hideAll || secretKeys.contains(name) || name == "headers"
                return (key, redact(value, hideAll: hide))
            }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map { redact($0, hideAll: hideAll) }, sequence.tag, sequence.style))
        case .alias:
            return node
        }
    }

    /// `scheme://user:password@host…` → `scheme://user:<secret>@host…`; other text unchanged.
    static func hidingURLPassword(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let authorityEnd = text[scheme.upperBound...].firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? text.endIndex
        let authority = text[scheme.upperBound..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<text.index(after: colon)]) + placeholder + String(text[at...])
    }
}
