/// The layout of a backup repository (SPEC.md §14.2). Changing a name here changes the format.
enum BackupFormat {
    /// `formatVersion` of every backup manifest this build writes; newer ones are refused.
    static let version = 1
    /// Immutable table files, stored once: `files/<file number>-<size>-<crc32c hex>`.
    static let filesDirectory = "files"
    /// One directory per backup: its small files and `manifest.json`.
    static let backupsDirectory = "backups"
    /// Work directories of backups being taken; anything here is garbage once no backup runs.
    static let tempDirectory = "tmp"
    /// A backup exists once this file is in its directory (written last, by rename).
    static let manifestName = "manifest.json"
    /// Held while a backup is taken or the repository is pruned.
    static let lockName = "LOCK"
    /// Backup ids: decimal, zero-padded to this many digits, increasing.
    static let idDigits = 6

    /// The content name of a table: equal names mean equal bytes (with CRC-32C's confidence).
    static func objectName(fileNumber: UInt64, size: UInt64, crc: UInt32) -> String {
        "\(DBFiles.number(fileNumber))-\(size)-\(hex(crc))"
    }

    static func hex(_ crc: UInt32) -> String {
        let digits = String(crc, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    static func id(_ n: Int) -> String {
        let digits = String(n)
        return digits.count >= idDigits ? digits : String(repeating: "0", count: idDigits - digits.count) + digits
    }
}
