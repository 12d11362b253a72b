/// The layout of Osmanthus's keys in the storage engine (SPEC.md §12). Changing a constant here
/// changes the on-disk format.
enum KeyFormat {
    /// First byte of every engine key: which space it belongs to.
    enum Space: UInt8 {
        /// `0x01 ‖ escaped(db) ‖ escaped(collection)` → catalog entry (BSON).
        case catalog = 0x01
        /// `0x02 ‖ name` → small persistent counters (next collection id).
        case meta = 0x02
        /// `0x10 ‖ u32be(collection id) ‖ primary key` → document (BSON).
        case documents = 0x10
        /// `0x20 ‖ u64be(commit sequence)` → change record (SPEC.md §16).
        case changeLog = 0x20
        /// `0x21 ‖ database name` → change-log retention of that database (SPEC.md §16.4).
        case changeLogRetention = 0x21
    }

    static let nextCollectionIdKey: [UInt8] = [Space.meta.rawValue] + Array("nextCollectionId".utf8)
    /// → 16 random bytes, written once per directory: collection UUIDs are derived from them
    /// and the collection's id (SPEC.md §11, `CollectionUUID`).
    static let collectionUUIDSeedKey: [UInt8] = [Space.meta.rawValue] + Array("collectionUUIDSeed".utf8)

    /// Type ranks of the value encoding, in MongoDB's comparison order.
    enum Rank: UInt8 {
        case end = 0x00  // ends a document or array
        case minKey = 0x01
        case undefined = 0x04
        case null = 0x05
        case nan = 0x0F  // NaN sorts below every number
        case number = 0x10
        case string = 0x20
        case document = 0x30
        case array = 0x40
        case binary = 0x50
        case objectId = 0x60
        case bool = 0x70
        case datetime = 0x80
        case timestamp = 0x90
        case regex = 0xA0
        case dbPointer = 0xB0
        case javascript = 0xC0
        case javascriptWithScope = 0xD0
        case maxKey = 0xFF
    }

    static let formatVersion: UInt32 = 1
}
