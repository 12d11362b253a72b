import Osmanthus
import Testing

@testable import OsmanthusServer

/// The connection's collection cache hands an inline find its collection and, for valid
/// names only, the namespace checked once when the entry was made.
struct CollectionCacheTests {
    private func withDatabase(_ body: (Database) throws -> Void) throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let db = try Database.open(at: scratch.path + "/data")
        defer { try? db.close() }
        try body(db)
    }

    @Test func aValidCollectionIsCachedWithItsNamespace() throws {
        try withDatabase { db in
            var cache = CollectionCache()
            let collection = cache.collection("users", in: "app", of: db)
            let known = try #require(cache.validated("users", in: "app"))
            #expect(known.collection === collection)
            #expect(known.namespace == "app.users")
            #expect(cache.cached("users", in: "app") === collection)
            #expect(cache.validated("users", in: "other") == nil)
        }
    }

    @Test func invalidNamesAreCachedWithoutANamespaceSoFindStillRefusesThem() throws {
        try withDatabase { db in
            var cache = CollectionCache()
            let invalid: [(collection: String, database: String)] = [
                ("a$b", "app"), (".starts", "app"), ("nul\u{0}", "app"), ("c", "bad.db"), ("c", "has space"),
                (String(repeating: "x", count: 300), "app"),
            ]
            for (name, database) in invalid {
                _ = cache.collection(name, in: database, of: db)
                #expect(cache.cached(name, in: database) != nil)
                #expect(cache.validated(name, in: database) == nil, "\(database).\(name)")
                #expect(throws: OsmanthusError.self) { try Namespace.validateCollection(name, in: database) }
            }
        }
    }

    @Test func theLeastRecentlyUsedEntryIsDroppedAtCapacity() throws {
        try withDatabase { db in
            var cache = CollectionCache()
            for n in 0...CollectionCache.capacity { _ = cache.collection("c\(n)", in: "app", of: db) }
            #expect(cache.validated("c0", in: "app") == nil)
            for n in 1...CollectionCache.capacity { #expect(cache.validated("c\(n)", in: "app")?.namespace == "app.c\(n)") }
        }
    }
}
