import Testing

@testable import OsmanthusWire

struct WirePlaceholderTests {
    @Test func moduleLoads() { #expect(String(describing: Wire.self) == "Wire") }
}
