import OsmanthusBSON

@testable import Osmanthus

/// A database with a small `sales` collection (and `items` for `$lookup`) for the pipeline
/// tests, and a shorthand to run a pipeline written in the shell-like fixture syntax.
struct AggregateFixture {
    static let sales = """
        [{_id: 1, item: "a", price: 10, qty: 2, tags: ["x", "y"]},
         {_id: 2, item: "b", price: 20, qty: 1, tags: ["y"]},
         {_id: 3, item: "a", price: 5, qty: 10, tags: []},
         {_id: 4, item: "c", price: 20, qty: NumberLong(3)},
         {_id: 5, item: "b", price: 15.5, qty: null, tags: null}]
        """
    static let items = """
        [{_id: "a", name: "Apple"}, {_id: "b", name: "Banana"}, {_id: "z"}]
        """

    static func with(_ body: (Database, Collection) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let sales = db.collection("sales", in: "shop")
        try sales.insertMany(QueryFixtures.docs(AggregateFixture.sales))
        try db.collection("items", in: "shop").insertMany(QueryFixtures.docs(AggregateFixture.items))
        try body(db, sales)
        try db.close()
    }

    static func run(_ collection: Collection, _ pipeline: String, options: AggregateOptions = AggregateOptions()) throws
        -> [Document]
    {
        try collection.aggregate(QueryFixtures.docs(pipeline), options: options).all()
    }

    static func docs(_ text: String) -> [Document] { QueryFixtures.docs(text) }
}
