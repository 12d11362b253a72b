import FoundationEssentials
import OsmanthusBSON
import Testing

@testable import Osmanthus

struct CodableCollectionTests {
    struct Address: Codable, Equatable, Sendable {
        var city: String
        var zip: String?
    }

    struct User: Codable, Equatable, Sendable {
        var _id: ObjectId
        var name: String
        var nickname: String?
        var joined: Date
        var address: Address
        var tags: [String]
        var scores: [Int]
    }

    static let joined = Date(timeIntervalSince1970: 1_700_000_000.123)

    static func user(_ name: String, nickname: String? = nil, city: String = "Paris", tags: [String] = []) -> User {
        User(
            _id: ObjectId(), name: name, nickname: nickname, joined: joined,
            address: Address(city: city, zip: nil), tags: tags, scores: [1, 2, 3])
    }

    @Test func structWithNestedOptionalDateAndArraysRoundTrips() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let users = db.collection("users", in: "app")
        let ada = Self.user("Ada", nickname: "countess", tags: ["math", "poetry"])
        let id = try users.insertOne(ada)
        #expect(id == .objectId(ada._id))

        // Stored as BSON's own types: a datetime, a nested document, no field for a nil optional.
        let raw = try #require(try users.findOne(["_id": id]))
        #expect(raw["joined"] == .datetime(1_700_000_000_123))
        #expect(raw["address"] == .document(["city": "Paris"]))
        #expect(raw["tags"] == .array(["math", "poetry"]))

        let back = try users.findOne(["_id": id], as: User.self)
        #expect(back == ada)
        // A filter on a nested field and an array element, typed results.
        let bob = Self.user("Bob", city: "Lyon", tags: ["math"])
        try users.insertOne(bob)
        let mathematicians = try users.find(["tags": "math"], as: User.self, options: FindOptions(sort: ["name": 1])).all()
        #expect(mathematicians.map(\.name) == ["Ada", "Bob"])
        #expect(try users.find(["address.city": "Lyon"], as: User.self).all() == [bob])
        #expect(try users.findOne(["name": "nobody"], as: User.self) == nil)
    }

    @Test func replaceOneWithValueKeepsIdAndRejectsAnotherId() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let users = db.collection("users", in: "app")
        var ada = Self.user("Ada")
        try users.insertOne(ada)
        ada.nickname = "Lovelace"
        ada.address.zip = "75001"
        let r = try users.replaceOne(["_id": .objectId(ada._id)], with: ada)
        #expect(r == UpdateResult(matchedCount: 1, modifiedCount: 1))
        #expect(try users.findOne(["_id": .objectId(ada._id)], as: User.self) == ada)

        var other = ada
        other._id = ObjectId()
        #expect {
            try users.replaceOne(["_id": .objectId(ada._id)], with: other)
        } throws: { ($0 as? OsmanthusError)?.code == .immutableField }
    }

    @Test func documentThatDoesNotDecodeIsTypeMismatch() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let users = db.collection("users", in: "app")
        try users.insertOne(["name": "no date here"])
        #expect {
            try users.findOne([:], as: User.self)
        } throws: { ($0 as? OsmanthusError)?.code == .typeMismatch }
    }

    @Test func dictionaryLiteralStillInsertsADocument() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "app")
        // Mixed and uniform literals both pick the Document overload, not Encodable.
        try c.insertOne(["_id": 1, "a": "x"])
        try c.insertOne(["_id": 2])
        #expect(try c.findOne(["_id": 2]) == ["_id": 2])
        #expect(try c.count() == 2)
    }
}
