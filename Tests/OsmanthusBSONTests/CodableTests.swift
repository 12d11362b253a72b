import Testing

@testable import OsmanthusBSON

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct CodableTests {
    enum Color: String, Codable, Equatable { case red, green }
    enum Level: Int, Codable, Equatable {
        case low = 1
        case high = 9
    }

    struct Address: Codable, Equatable {
        var street: String
        var zip: Int32
    }

    struct Person: Codable, Equatable {
        var _id: ObjectId
        var name: String
        var age: Int
        var height: Double
        var active: Bool
        var big: Int64
        var small: Int32
        var address: Address
        var tags: [String]
        var scores: [Int]
        var nickname: String?
        var color: Color
        var level: Level
        var attributes: [String: String]
        var nested: [[Int32]]
        var born: Date
        var avatar: Data
        var token: UUID
        var balance: Decimal128
        var extra: Document
        var anything: BSONValue
    }

    static func sample() throws -> Person {
        Person(
            _id: try ObjectId("56e1fc72e0c917e9c4714161"), name: "Ada", age: 36, height: 1.65, active: true,
            big: 1 << 40, small: -3, address: Address(street: "Main", zip: 12345), tags: ["a", "b"],
            scores: [1, 2, 3], nickname: nil, color: .green, level: .high, attributes: ["k": "v"],
            nested: [[1], [2, 3]], born: Date(timeIntervalSince1970: 1_356_351_330.501),
            avatar: Data([1, 2, 3]),
            token: try #require(UUID(uuidString: "73FFD264-44B3-4C69-90E8-E7D1DFC035D4")),
            balance: try Decimal128("12.50"),
            extra: ["x": .null], anything: .regex(pattern: "a", options: "i"))
    }

    @Test func structRoundTripsThroughADocument() throws {
        let person = try Self.sample()
        let document = try BSONEncoder().encode(person)
        let decoded = try BSONDecoder().decode(Person.self, from: document)
        #expect(decoded == person)
        // And through bytes.
        let fromBytes = try BSONDecoder().decode(Person.self, from: try Document(bytes: document.bytes))
        #expect(fromBytes == person)
    }

    @Test func typesMapToTheirBSONTypes() throws {
        let document = try BSONEncoder().encode(try Self.sample())
        #expect(document.type(of: "_id") == .objectId)
        #expect(document["age"] == .int64(36))
        #expect(document["small"] == .int32(-3))
        #expect(document["height"] == .double(1.65))
        #expect(document["address"] == .document(["street": "Main", "zip": .int32(12345)]))
        #expect(document["tags"] == .array(["a", "b"]))
        #expect(document["color"] == .string("green"))
        #expect(document["level"] == .int64(9))
        #expect(document["born"] == .datetime(1_356_351_330_501))
        #expect(document["avatar"] == .binary(BSONBinary(data: [1, 2, 3])))
        #expect(document["token"]?.binaryValue?.subtype == .uuid)
        #expect(document["token"]?.binaryValue?.uuidString == "73ffd264-44b3-4c69-90e8-e7d1dfc035d4")
        #expect(document["balance"] == .decimal128(try Decimal128("12.50")))
        #expect(document["attributes"] == .document(["k": "v"]))
        #expect(!document.contains("nickname"), "nil optionals are omitted")
        #expect(document.keys.first == "_id", "fields in declaration order")
    }

    @Test func optionalsDecodeFromMissingOrNull() throws {
        struct Maybe: Codable, Equatable {
            var a: Int?
            var b: String?
        }
        let decoder = BSONDecoder()
        #expect(try decoder.decode(Maybe.self, from: [:]) == Maybe(a: nil, b: nil))
        #expect(try decoder.decode(Maybe.self, from: ["a": nil, "b": .undefined]) == Maybe(a: nil, b: nil))
        #expect(try decoder.decode(Maybe.self, from: ["a": 5, "b": "x"]) == Maybe(a: 5, b: "x"))
    }

    @Test func numbersDecodeLeniently() throws {
        struct Numbers: Codable, Equatable {
            var i: Int
            var d: Double
            var f: Float
            var u: UInt8
        }
        let decoded = try BSONDecoder().decode(
            Numbers.self, from: ["i": 3.0, "d": .int64(7), "f": .int32(2), "u": .int64(255)])
        #expect(decoded == Numbers(i: 3, d: 7, f: 2, u: 255))
        #expect(throws: DecodingError.self) {
            try BSONDecoder().decode(Numbers.self, from: ["i": 3.5, "d": 1, "f": 1, "u": 1])
        }
        #expect(throws: DecodingError.self) {
            try BSONDecoder().decode(Numbers.self, from: ["i": 1, "d": 1, "f": 1, "u": 256])
        }
    }

    @Test func missingAndMistypedFieldsThrowDecodingErrorsWithPaths() throws {
        do {
            _ = try BSONDecoder().decode(Address.self, from: ["street": "x"])
            Issue.record("decoded")
        } catch DecodingError.keyNotFound(let key, _) {
            #expect(key.stringValue == "zip")
        }
        do {
            struct Outer: Codable { var address: Address }
            _ = try BSONDecoder().decode(Outer.self, from: ["address": ["street": 1, "zip": 1]])
            Issue.record("decoded")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["address", "street"])
        }
    }

    @Test func topLevelMustBeADocument() {
        #expect(throws: EncodingError.self) { try BSONEncoder().encode([1, 2, 3]) }
        #expect(throws: EncodingError.self) { try BSONEncoder().encode("text") }
        #expect(throws: (any Error).self) { try BSONEncoder().encode(["ok": UInt64.max]) }
    }

    @Test func dictionaryKeysWithNULAreRejected() {
        #expect(throws: BSONError.self) { try BSONEncoder().encode(["a\u{0}b": 1]) }
    }

    @Test func explicitNilEncodesNull() throws {
        struct WithNull: Encodable {
            var value: Int?
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(value, forKey: .value)
            }
            enum CodingKeys: String, CodingKey { case value }
        }
        #expect(try BSONEncoder().encode(WithNull(value: nil)) == ["value": nil])
    }

    @Test func encodeValueGivesScalars() throws {
        #expect(try BSONEncoder().encodeValue(5) == .int64(5))
        #expect(try BSONEncoder().encodeValue([Int32(1)]) == .array([.int32(1)]))
        #expect(try BSONDecoder().decode([String].self, fromValue: .array(["a"])) == ["a"])
    }

    @Test func classesWithInheritanceUseSuperEncoder() throws {
        class Base: Codable {
            var id = 1
        }
        final class Derived: Base {
            var name = "d"
            enum CodingKeys: String, CodingKey { case name }
            override init() { super.init() }
            required init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                name = try container.decode(String.self, forKey: .name)
                try super.init(from: container.superDecoder())
            }
            override func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name)
                try super.encode(to: container.superEncoder())
            }
        }
        let document = try BSONEncoder().encode(Derived())
        #expect(document == ["name": "d", "super": ["id": .int64(1)]])
        let decoded = try BSONDecoder().decode(Derived.self, from: document)
        #expect(decoded.name == "d" && decoded.id == 1)
    }
}
