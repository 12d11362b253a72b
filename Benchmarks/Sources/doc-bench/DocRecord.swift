// The data both engines get: each record as a BSON document (Osmanthus) and as JSON text
// (SQLite), both built before any clock starts.
import OsmanthusBSON

struct DocRecord: Sendable {
    let id: String
    let document: Document
    let json: String
}

/// Seeded record generators: the same seed gives the same records, byte for byte.
enum RecordFactory {
    static let cities = [
        "Amsterdam", "Berlin", "Cairo", "Dublin", "Edinburgh", "Florence", "Geneva", "Hanoi",
        "Istanbul", "Jakarta", "Kyoto", "Lisbon", "Madrid", "Nairobi", "Oslo", "Paris", "Quito",
        "Rome", "Seoul", "Tokyo",
    ]
    static let names = [
        "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Leslie", "Frances", "Ken",
        "Dennis", "Margaret", "John", "Niklaus", "Tony", "Radia", "Butler",
    ]
    static let tags = [
        "admin", "beta", "customer", "dev", "early", "gold", "green", "ops", "premium", "red",
        "silver", "staff", "test", "trial", "vip", "west",
    ]
    static let minAge = 18
    static let maxAge = 80
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// `_id` of the i-th document workload record: increasing, as ObjectIds are.
    static func docID(_ i: Int) -> String {
        let digits = String(i)
        return "doc" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    /// About 200 bytes of BSON: name, age, city, a tags array and a short note.
    static func person(_ i: Int, _ rng: inout SplitMix64) -> DocRecord {
        let id = docID(i)
        let name = names[rng.index(below: names.count)] + " " + randomText(8, &rng)
        let age = rng.uniform(minAge...maxAge)
        let city = cities[rng.index(below: cities.count)]
        let tagList = (0..<3).map { _ in tags[rng.index(below: tags.count)] }
        let note = randomText(60, &rng)
        var doc = Document()
        doc.append("_id", .string(id))
        doc.append("name", .string(name))
        doc.append("age", .int32(Int32(age)))
        doc.append("city", .string(city))
        doc.append("tags", .array(tagList.map { .string($0) }))
        doc.append("note", .string(note))
        let tagJSON = tagList.map { "\"\($0)\"" }.joined(separator: ",")
        let json =
            "{\"_id\":\"\(id)\",\"name\":\"\(name)\",\"age\":\(age),\"city\":\"\(city)\","
            + "\"tags\":[\(tagJSON)],\"note\":\"\(note)\"}"
        return DocRecord(id: id, document: doc, json: json)
    }

    static let ycsbFieldCount = 10
    static let ycsbFieldLength = 100

    /// YCSB's key name: "user" followed by the hashed record number, so insertion order is not
    /// key order.
    static func ycsbKey(_ n: Int) -> String { "user" + String(FNV.hash64(UInt64(n))) }

    static func ycsbField(_ f: Int) -> String { "field" + String(f) }

    /// A YCSB record: 10 fields of 100 random characters (1 KB of values).
    static func ycsbRecord(_ n: Int, _ rng: inout SplitMix64) -> DocRecord {
        let id = ycsbKey(n)
        var doc = Document()
        doc.append("_id", .string(id))
        var json = "{\"_id\":\"\(id)\""
        for f in 0..<ycsbFieldCount {
            let value = randomText(ycsbFieldLength, &rng)
            doc.append(ycsbField(f), .string(value))
            json += ",\"\(ycsbField(f))\":\"\(value)\""
        }
        json += "}"
        return DocRecord(id: id, document: doc, json: json)
    }

    /// Letters and digits only, so the JSON needs no escaping.
    static func randomText(_ length: Int, _ rng: inout SplitMix64) -> String {
        var bytes = [UInt8](repeating: 0, count: length)
        for i in 0..<length { bytes[i] = alphabet[rng.index(below: alphabet.count)] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
