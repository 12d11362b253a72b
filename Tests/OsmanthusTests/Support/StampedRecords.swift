import OsmanthusStorage

/// The (key, value) records of `batch`, in order, once it is stamped at `sequence`: what the
/// engine would store for it (stamped keys, e.g. change records, take their sequence from it).
func stampedRecords(_ batch: inout WriteBatch, at sequence: UInt64) -> [([UInt8], [UInt8])] {
    batch.sequence = sequence
    var records: [([UInt8], [UInt8])] = []
    batch.forEach { _, key, value in records.append((Array(key), Array(value))) }
    return records
}
