import Osmanthus
import OsmanthusBSON
import Testing

@testable import OsmanthusServer

/// currentOp's table and killOp's reach into a running scan.
struct OperationTableTests {
    private let connection = ConnectionInfo(id: 7, remoteAddress: "127.0.0.1:5000")

    private func request(_ body: Document) throws -> CommandRequest {
        try CommandRequest(body: body, databaseName: "app")
    }

    @Test func operationsAreListedUntilTheyFinishAndKilledByID() throws {
        let table = OperationTable()
        let find = table.start(try request(["find": "items", "filter": [:]]), connection: connection)
        let ping = table.start(try request(["ping": 1]), connection: connection)
        #expect(table.all.map(\.id) == [find.id, ping.id])
        #expect(find.namespace == "app.items")
        #expect(ping.namespace == "app.$cmd")
        #expect(find.kind == "query")
        #expect(table.kill(id: find.id))
        #expect(find.isKilled)
        #expect(!ping.isKilled)
        table.finish(find)
        #expect(table.all.map(\.id) == [ping.id])
        #expect(!table.kill(id: find.id))
        table.kill(connectionID: connection.id)
        #expect(ping.isKilled)
    }

    @Test func aKilledOperationStopsAScanThatMatchesNothing() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let db = try Database.open(at: scratch.path + "/data")
        defer { try? db.close() }
        let items = db.collection("items", in: "app")
        _ = try items.insertMany((0..<2000).map { ["_id": .int32(Int32($0)), "v": .int32(1)] })
        let table = OperationTable()
        let operation = table.start(try request(["find": "items"]), connection: connection)
        // Killed while inside one `next()`: the scan reads 2000 documents for none.
        let source = QueryCommands.CollectionSource(try items.find(["v": .int32(2)]))
        source.operation = operation
        operation.kill()
        do {
            _ = try source.next()
            Issue.record("the scan ran to its end")
        } catch let error as OsmanthusError {
            #expect(error.code == RunningOperation.interrupted)
        }
        // Between documents of a batch.
        let cursor = ServerCursor(
            namespace: "app.items", connectionID: connection.id, sessionID: nil,
            source: QueryCommands.CollectionSource(try items.find()))
        #expect(throws: OsmanthusError.self) { try cursor.nextBatch(maxCount: 10, operation: operation) }
        // Without a kill the same scan ends normally.
        let whole = ServerCursor(
            namespace: "app.items", connectionID: connection.id, sessionID: nil,
            source: QueryCommands.CollectionSource(try items.find(["v": .int32(2)])))
        #expect(try whole.nextBatch(maxCount: 10, operation: table.start(try request(["find": "items"]), connection: connection)).isEmpty)
    }
}
