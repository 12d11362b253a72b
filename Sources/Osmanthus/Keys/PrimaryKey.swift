import OsmanthusBSON
import OsmanthusStorage

/// Engine keys of documents (SPEC.md §12.3):
///
/// ```
/// _id collections:        0x10 ‖ u32be(collection id) ‖ enc(_id)
/// partitioned collections: 0x10 ‖ u32be(collection id) ‖ u32be(crc32c(enc(pk))) ‖ enc(pk) ‖ enc(sk)
/// ```
/// `enc` is the order-preserving value encoding (KeyEncoder). In a partitioned collection the
/// documents of one partition key are adjacent and ordered by sort key; partition p of N holds
/// the hash range [p·2³²/N, (p+1)·2³²/N).
enum PrimaryKey {
    static func key(for doc: Document, in entry: CatalogEntry) throws -> [UInt8] {
        if let pkField = entry.options.partitionKey {
            var key = entry.documentPrefix
            guard let pk = doc[pkField] else {
                throw OsmanthusError(.badValue, "document is missing the partition key field '\(pkField)'")
            }
            let sk = entry.options.sortKey.map { doc[$0] ?? .null }
            key += partitionPrefix(pk)
            if let sk { try checkKeyValue(sk, field: entry.options.sortKey ?? "") }
            key += KeyEncoder.encode(sk ?? .null)
            return key
        } else {
            guard let id = doc["_id"] else {
                throw OsmanthusError(.internalError, "document without _id reached the key builder")
            }
            try checkKeyValue(id, field: "_id")
            return KeyEncoder.encode(id, afterDocumentPrefixOf: entry.id)
        }
    }

    /// The key for `_id` = value in an `_id` collection.
    static func key(id: BSONValue, in entry: CatalogEntry) -> [UInt8] {
        KeyEncoder.encode(id, afterDocumentPrefixOf: entry.id)
    }

    /// hash ‖ enc(pk): every document of one partition key starts with it.
    static func partitionPrefix(_ pk: BSONValue) -> [UInt8] {
        let enc = KeyEncoder.encode(pk)
        let h = CRC32C.checksum(enc)
        return [UInt8(h >> 24), UInt8(truncatingIfNeeded: h >> 16), UInt8(truncatingIfNeeded: h >> 8),
                UInt8(truncatingIfNeeded: h)] + enc
    }

    /// The partition (0..<partitions) a partition key value falls in.
    static func partition(of pk: BSONValue, partitions: Int) -> Int {
        let h = UInt64(CRC32C.checksum(KeyEncoder.encode(pk)))
        return Int(h * UInt64(partitions) >> 32)
    }

    static func checkKeyValue(_ v: BSONValue, field: String) throws {
        switch v {
        case .array:
            throw OsmanthusError(.badValue, "can't use an array for \(field)")
        case .regex where field == "_id", .undefined where field == "_id":
            throw OsmanthusError(.badValue, "can't use a \(v.type) for _id")
        default:
            break
        }
    }
}
