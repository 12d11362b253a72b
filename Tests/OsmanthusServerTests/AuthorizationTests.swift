import Osmanthus
import OsmanthusBSON
import Testing

@testable import OsmanthusServer

/// Built-in roles against the commands they allow (SPEC.md §13.3); expectations written from
/// MongoDB's built-in role reference.
struct AuthorizationTests {
    func allowed(_ body: Document, on db: String, _ grants: [RoleGrant]) throws -> Bool {
        Authorization.check(try CommandRequest(body: body, databaseName: db), grants: grants) == nil
    }

    func grants(_ roles: [BSONValue], db: String) throws -> [RoleGrant] { try RoleGrant.parse(roles, db: db) }

    func listable(_ grants: [RoleGrant]) -> Set<String>? { Authorization.listableDatabases(AuthorizedRoles(builtins: grants)) }

    @Test func eachRoleAllowsItsCommandsOnItsDatabaseOnly() throws {
        let read = try grants(["read"], db: "shop")
        let readWrite = try grants(["readWrite"], db: "shop")
        let dbAdmin = try grants(["dbAdmin"], db: "shop")
        let userAdmin = try grants(["userAdmin"], db: "shop")
        let find: Document = ["find": "items"]
        let insert: Document = ["insert": "items", "documents": [["_id": 1]]]
        #expect(try allowed(find, on: "shop", read))
        #expect(try !allowed(find, on: "other", read))
        #expect(try !allowed(insert, on: "shop", read))
        #expect(try allowed(insert, on: "shop", readWrite))
        #expect(try allowed(["explain": .document(find)], on: "shop", read))
        #expect(try !allowed(["explain": .document(insert)], on: "shop", read))
        #expect(try !allowed(find, on: "shop", dbAdmin))
        #expect(try allowed(["collMod": "items"], on: "shop", dbAdmin))
        #expect(try !allowed(["collMod": "items"], on: "shop", readWrite))
        #expect(try allowed(["createIndexes": "items"], on: "shop", dbAdmin))
        #expect(try allowed(["createUser": "u"], on: "shop", userAdmin))
        #expect(try allowed(["grantRolesToUser": "u", "roles": ["read"]], on: "shop", userAdmin))
        #expect(try !allowed(["updateUser": "u", "pwd": "p"], on: "shop", readWrite))
        #expect(try !allowed(["createUser": "u"], on: "shop", readWrite))
        // Handshake and session commands need no role; server administration needs root.
        #expect(try allowed(["ping": 1], on: "admin", []))
        #expect(try allowed(["endSessions": []], on: "admin", []))
        #expect(try !allowed(["serverStatus": 1], on: "admin", readWrite))
        #expect(try !allowed(["find": "system.users"], on: "admin", try grants(["readAnyDatabase"], db: "admin")))
    }

    @Test func anyDatabaseRolesAndRootReachEveryDatabase() throws {
        let readAny = try grants(["readAnyDatabase"], db: "admin")
        let readWriteAny = try grants([["role": "readWriteAnyDatabase", "db": "admin"]], db: "x")
        let root = try grants(["root"], db: "admin")
        #expect(try allowed(["find": "c"], on: "anything", readAny))
        #expect(try !allowed(["insert": "c"], on: "anything", readAny))
        #expect(try allowed(["listDatabases": 1], on: "admin", readAny))
        // Without an any-database read role, listDatabases runs but lists only the user's databases.
        let shopUser = try grants(["readWrite", ["role": "dbAdmin", "db": "depot"]], db: "shop")
        #expect(try allowed(["listDatabases": 1], on: "admin", shopUser))
        #expect(listable(shopUser) == ["shop", "depot"])
        #expect(listable(readAny) == nil)
        #expect(listable(root) == nil)
        #expect(listable(try grants(["dbAdminAnyDatabase"], db: "admin")) == nil)
        #expect(try allowed(["insert": "c"], on: "anything", readWriteAny))
        #expect(try !allowed(["dropDatabase": 1], on: "anything", readWriteAny))
        #expect(try allowed(["serverStatus": 1], on: "admin", root))
        #expect(try allowed(["find": "system.users"], on: "admin", root))
        // $out into another database writes there too.
        let out: Document = ["aggregate": "c", "pipeline": [["$out": ["db": "b", "coll": "x"]]], "cursor": [:]]
        #expect(try !allowed(out, on: "a", try grants(["readWrite"], db: "a")))
        #expect(try allowed(out, on: "a", try grants(["readWrite", ["role": "readWrite", "db": "b"]], db: "a")))
    }

    @Test func clusterRolesAndDbOwnerAllowWhatMongoDBsDo() throws {
        let monitor = try grants(["clusterMonitor"], db: "admin")
        let clusterAdmin = try grants(["clusterAdmin"], db: "admin")
        let backup = try grants(["backup"], db: "admin")
        let restore = try grants(["restore"], db: "admin")
        let owner = try grants(["dbOwner"], db: "shop")
        #expect(try allowed(["serverStatus": 1], on: "admin", monitor))
        #expect(try allowed(["currentOp": 1], on: "admin", monitor))
        #expect(try !allowed(["killOp": 1, "op": 5], on: "admin", monitor))
        #expect(try !allowed(["find": "c"], on: "shop", monitor))
        #expect(try allowed(["killOp": 1, "op": 5], on: "admin", clusterAdmin))
        #expect(try allowed(["dropDatabase": 1], on: "shop", clusterAdmin))
        #expect(try !allowed(["configureFailPoint": "x"], on: "admin", clusterAdmin))
        #expect(try allowed(["find": "c"], on: "anything", backup))
        #expect(try allowed(["osmanthusSnapshot": 1], on: "admin", backup))
        #expect(try !allowed(["insert": "c"], on: "anything", backup))
        #expect(try allowed(["insert": "c"], on: "anything", restore))
        #expect(try !allowed(["osmanthusBackup": 1], on: "admin", restore))
        for command: Document in [["insert": "c"], ["find": "c"], ["collMod": "c"], ["createUser": "u"]] {
            #expect(try allowed(command, on: "shop", owner))
            #expect(try !allowed(command, on: "other", owner))
        }
        // Anyone authenticated sees its own operations; everyone's needs a monitoring role.
        #expect(try allowed(["currentOp": 1, "$ownOps": true], on: "admin", try grants(["read"], db: "shop")))
        #expect(try !allowed(["currentOp": 1], on: "admin", try grants(["read"], db: "shop")))
        #expect(throws: OsmanthusError.self) { try grants(["clusterMonitor"], db: "shop") }
    }

    @Test func unknownRolesAndAnyDatabaseRolesOffAdminAreRoleNotFound() {
        for (roles, db) in [(["nope"], "shop"), (["root"], "shop"), (["readAnyDatabase"], "shop")] as [([BSONValue], String)] {
            do {
                _ = try RoleGrant.parse(roles, db: db)
                Issue.record("expected RoleNotFound for \(roles)")
            } catch let e as OsmanthusError {
                #expect(e.code.value == 31)
                #expect(e.message.hasPrefix("Could not find role: "))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func refusalNamesTheDatabaseAndTheCommand() throws {
        let request = try CommandRequest(body: ["insert": "items", "ordered": true, "lsid": ["id": 1]], databaseName: "shop")
        let error = Authorization.check(request, grants: try grants(["read"], db: "shop"))
        #expect(error?.code.value == 13)
        #expect(error?.message == "not authorized on shop to execute command { insert: \"items\", ordered: true, $db: \"shop\" }")
    }
}
