import Osmanthus
import OsmanthusBSON
import Testing

@testable import OsmanthusServer

/// User-defined roles' privileges against commands (SPEC.md §13.3), with MongoDB's resource
/// matching rules.
struct PrivilegeTests {
    func privilege(_ resource: Document, _ actions: [String]) throws -> Privilege {
        try Privilege.parse(["resource": .document(resource), "actions": .array(actions.map { .string($0) })])
    }

    func allowed(_ body: Document, on db: String, _ privileges: [Privilege]) throws -> Bool {
        Authorization.check(try CommandRequest(body: body, databaseName: db), roles: AuthorizedRoles(privileges: privileges)) == nil
    }

    @Test func resourcesMatchTheirNamespacesDatabasesAndTheCluster() throws {
        let exact = try privilege(["db": "shop", "collection": "orders"], ["find"])
        let wholeDB = try privilege(["db": "shop", "collection": ""], ["find"])
        let anyDB = try privilege(["db": "", "collection": "orders"], ["find"])
        let everything = try privilege(["db": "", "collection": ""], ["find"])
        let cluster = try privilege(["cluster": true], ["serverStatus"])
        let any = try privilege(["anyResource": true], ["find"])
        let orders = Privilege.Target.collection(db: "shop", name: "orders")
        let items = Privilege.Target.collection(db: "shop", name: "items")
        let elsewhere = Privilege.Target.collection(db: "depot", name: "orders")
        let users = Privilege.Target.collection(db: "admin", name: "system.users")
        #expect(exact.allows("find", on: orders) && !exact.allows("find", on: items) && !exact.allows("find", on: elsewhere))
        #expect(!exact.allows("insert", on: orders))
        #expect(wholeDB.allows("find", on: items) && !wholeDB.allows("find", on: elsewhere))
        #expect(wholeDB.allows("find", on: .database("shop")) && !exact.allows("find", on: .database("shop")))
        #expect(anyDB.allows("find", on: elsewhere) && !anyDB.allows("find", on: items))
        #expect(everything.allows("find", on: elsewhere) && everything.allows("find", on: .database("")))
        #expect(!wholeDB.allows("find", on: .database("")))
        // System collections are reached only through anyResource.
        #expect(!everything.allows("find", on: users) && any.allows("find", on: users))
        #expect(cluster.allows("serverStatus", on: .cluster) && !cluster.allows("serverStatus", on: .database("admin")))
        #expect(!everything.allows("find", on: .cluster))
    }

    @Test func commandsNeedTheirMongoDBActions() throws {
        let clerk = [try privilege(["db": "shop", "collection": "orders"], ["find", "update"])]
        #expect(try allowed(["find": "orders"], on: "shop", clerk))
        #expect(try allowed(["count": "orders"], on: "shop", clerk))
        #expect(try allowed(["getMore": .int64(5), "collection": "orders"], on: "shop", clerk))
        #expect(try allowed(["findAndModify": "orders", "update": ["$set": ["a": 1]]], on: "shop", clerk))
        #expect(try !allowed(["findAndModify": "orders", "remove": true], on: "shop", clerk))
        #expect(try !allowed(["insert": "orders"], on: "shop", clerk))
        #expect(try !allowed(["find": "orders"], on: "other", clerk))
        #expect(try allowed(["explain": ["find": "orders"]], on: "shop", clerk))
        #expect(try !allowed(["listCollections": 1], on: "shop", clerk))
        #expect(try allowed(["aggregate": "orders", "pipeline": [], "cursor": [:]], on: "shop", clerk))
        let out: Document = ["aggregate": "orders", "pipeline": [["$out": "copy"]], "cursor": [:]]
        #expect(try !allowed(out, on: "shop", clerk))
        let copier = clerk + [try privilege(["db": "shop", "collection": "copy"], ["insert", "remove"])]
        #expect(try allowed(out, on: "shop", copier))
        // Change streams need changeStream as well as find; over the cluster, on every database.
        let stream: Document = ["aggregate": "orders", "pipeline": [["$changeStream": [:]]], "cursor": [:]]
        #expect(try !allowed(stream, on: "shop", clerk))
        #expect(try allowed(stream, on: "shop", [try privilege(["db": "shop", "collection": ""], ["find", "changeStream"])]))
        let cluster: Document = [
            "aggregate": 1, "pipeline": [["$changeStream": ["allChangesForCluster": true]]], "cursor": [:],
        ]
        #expect(try !allowed(cluster, on: "admin", [try privilege(["db": "shop", "collection": ""], ["find", "changeStream"])]))
        #expect(try allowed(cluster, on: "admin", [try privilege(["db": "", "collection": ""], ["find", "changeStream"])]))
        // Database and cluster actions; commands no privilege names stay root's.
        #expect(try allowed(["createUser": "u"], on: "shop", [try privilege(["db": "shop", "collection": ""], ["createUser"])]))
        #expect(try allowed(["serverStatus": 1], on: "admin", [try privilege(["cluster": true], ["serverStatus"])]))
        #expect(try !allowed(["configureFailPoint": "x"], on: "admin", [try privilege(["anyResource": true], ["anyAction"])]))
        #expect(try allowed(["insert": "orders"], on: "shop", [try privilege(["anyResource": true], ["anyAction"])]))
        #expect(try !allowed(["find": "system.users"], on: "admin", [try privilege(["db": "", "collection": ""], ["find"])]))
    }

    @Test func listDatabasesShowsTheDatabasesPrivilegesName() throws {
        let shop = AuthorizedRoles(privileges: [try privilege(["db": "shop", "collection": "orders"], ["find"])])
        #expect(Authorization.listableDatabases(shop) == ["shop"])
        let every = AuthorizedRoles(privileges: [try privilege(["db": "", "collection": "orders"], ["find"])])
        #expect(Authorization.listableDatabases(every) == nil)
        let lister = AuthorizedRoles(privileges: [try privilege(["cluster": true], ["listDatabases"])])
        #expect(Authorization.listableDatabases(lister) == nil)
    }

    @Test func malformedPrivilegesAreRefused() {
        let bad: [BSONValue] = [
            ["resource": ["db": "shop"], "actions": ["find"]],
            ["resource": ["db": "shop", "collection": ""], "actions": ["fly"]],
            ["resource": ["db": "shop", "collection": ""], "actions": []],
            ["resource": ["cluster": false], "actions": ["find"]],
            ["actions": ["find"]],
            "find",
        ]
        for value in bad {
            #expect(throws: OsmanthusError.self) { try Privilege.parse(value) }
        }
    }
}
