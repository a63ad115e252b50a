/// What a resource contributes to its series: `job` from service.namespace
/// and service.name (`namespace/name`, or the name alone), `instance` from
/// service.instance.id, and the rest of its attributes for `target_info`.
struct OTLPResource {
    var job: String?
    var instance: String?
    var service: String?
    /// The other attributes, as label pairs.
    var others: [(String, String)]

    static let identifying: Set<String> = ["service.name", "service.namespace", "service.instance.id"]

    init(_ attributes: [KeyValue]) {
        func value(_ key: String) -> String? {
            attributes.last { $0.key == key }.map { OTLPAttributes.text($0.value) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        service = value("service.name")
        if let name = service {
            job = value("service.namespace").map { $0 + "/" + name } ?? name
        }
        instance = value("service.instance.id")
        others = OTLPAttributes.labels(attributes.filter { !Self.identifying.contains($0.key) })
    }

    /// The labels every series of this resource carries.
    var identity: [(String, String)] {
        var pairs: [(String, String)] = []
        if let job { pairs.append(("job", job)) }
        if let instance { pairs.append(("instance", instance)) }
        return pairs
    }
}
