import Testing

@testable import OsmanthusBSON

struct BSONPlaceholderTests {
    @Test func moduleLoads() {
        #expect(String(describing: BSON.self) == "BSON")
    }
}
