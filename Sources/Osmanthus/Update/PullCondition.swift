import OsmanthusBSON

/// What `$pull` removes from an array (MongoDB's three matchers):
/// - a plain document is a query on the elements: `{$pull: {a: {b: 1}}}` removes the document
///   elements where `b` matches 1 (extra fields allowed), not only `{b: 1}` itself;
/// - an operator document or a regex is a condition on each element as a value:
///   `{$pull: {a: {$gte: 6}}}`, `{$pull: {a: /x/}}`;
/// - anything else removes the elements equal to it (`1` also removes `1.0`).
enum PullCondition: Sendable {
    case equals(BSONValue)
    case query(MatchNode)
    /// Evaluated on `{"": element}`, so an array element is traversed as a query would.
    case wrappedValue(MatchNode)

    init(_ argument: BSONValue) throws {
        let parser = FilterParser(allowsExpr: false)
        switch argument {
        case .document(let document) where FilterParser.isOperatorDocument(document):
            self = .wrappedValue(try parser.parseField([""], argument))
        case .document(let document):
            self = .query(try parser.parse(document))
        case .regex:
            self = .wrappedValue(try parser.parseField([""], argument))
        default:
            self = .equals(argument)
        }
    }

    func matches(_ element: BSONValue) -> Bool {
        switch self {
        case .equals(let value):
            return BSONValue.compare(element, value) == 0
        case .query(let node):
            switch element {
            case .document(let fields):
                return (try? node.evaluate(fields))?.0 == true
            case .array(let elements):
                let fields = Document(elements.enumerated().map { (String($0.offset), $0.element) })
                return (try? node.evaluate(fields))?.0 == true
            default:
                return false
            }
        case .wrappedValue(let node):
            return (try? node.evaluate(Document([("", element)])))?.0 == true
        }
    }
}
