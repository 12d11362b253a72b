import OsmanthusBSON

/// A dotted field path ("a.b.0.c") split into its components.
///
/// Components are kept as written: whether "0" means an array index or a field named "0"
/// depends on the value met at that point of the walk (MongoDB decides per document).
struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    let components: [String]

    init(_ dotted: String) {
        // "" is one empty component (a field named ""), as MongoDB reads it.
        if !dotted.utf8.contains(UInt8(ascii: ".")) {  // one component: no split
            components = [dotted]
            return
        }
        components = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    init(components: [String]) {
        self.components = components
    }

    var dotted: String { components.joined(separator: ".") }
    var description: String { dotted }
    var isEmpty: Bool { components.isEmpty }

    /// Whether `self` is `other` or one of its ancestors ("a" is a prefix of "a.b").
    func isPrefix(of other: FieldPath) -> Bool {
        components.count <= other.components.count && zip(components, other.components).allSatisfy { $0 == $1 }
    }

    /// An array index component: ASCII digits without a leading zero ("0", "12"; not "01",
    /// "-1" or "+1"), small enough for an Int.
    static func arrayIndex(_ component: String) -> Int? {
        let utf8 = component.utf8
        guard let first = utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return nil }
        guard utf8.count == 1 || first != UInt8(ascii: "0") else { return nil }
        guard utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(component)
    }
}

/// The order MongoDB's update tree applies its children in (5.0+, the server's
/// `cmpPathsAndArrayIndexes`), component by component: two names that both look like numbers
/// (a digit first, no leading zero) order shorter first, then by bytes — so "2" < "10" —
/// and any other pair by bytes. A path sorts right before its descendants.
func comparePaths(_ a: [String], _ b: [String]) -> Int {
    for (x, y) in zip(a, b) where x != y {
        return comparePathComponents(x, y)
    }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

private func comparePathComponents(_ x: String, _ y: String) -> Int {
    func looksNumeric(_ s: String.UTF8View) -> Bool {
        guard let first = s.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return false }
        return first != UInt8(ascii: "0") || s.count == 1
    }
    if looksNumeric(x.utf8), looksNumeric(y.utf8), x.utf8.count != y.utf8.count {
        return x.utf8.count < y.utf8.count ? -1 : 1
    }
    return BSONValue.compare(.string(x), .string(y))
}
