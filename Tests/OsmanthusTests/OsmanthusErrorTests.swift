import OsmanthusStorage
import Testing

@testable import Osmanthus

struct OsmanthusErrorTests {
    @Test func storageErrorsKeepTheirCauseWhenWrapped() {
        let wrapped = OsmanthusError.wrapping(StorageError(.noSpace, "disk full"))
        #expect(wrapped.code == .storageError)
        #expect((wrapped.cause as? StorageError)?.code == .noSpace)
        #expect(OsmanthusError.wrapping(OsmanthusError(.badValue, "x")).code.value == 2)
    }
}
