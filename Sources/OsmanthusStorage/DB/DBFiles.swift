/// The names of a database directory's files (SPEC.md §2).
enum DBFiles {
    enum Kind: Equatable {
        case log(UInt64), table(UInt64), manifest(UInt64), temp(UInt64), current, lock
    }

    static func number(_ n: UInt64) -> String {
        let digits = String(n)
        return digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
    }

    static func log(_ dir: String, _ n: UInt64) -> String { joinPath(dir, number(n) + ".log") }
    static func table(_ dir: String, _ n: UInt64) -> String { joinPath(dir, number(n) + ".sst") }
    static func manifest(_ dir: String, _ n: UInt64) -> String { joinPath(dir, "MANIFEST-" + number(n)) }
    static func temp(_ dir: String, _ n: UInt64) -> String { joinPath(dir, number(n) + ".dbtmp") }
    static func current(_ dir: String) -> String { joinPath(dir, "CURRENT") }
    static func lock(_ dir: String) -> String { joinPath(dir, "LOCK") }

    /// What a directory entry is, or nil for names the engine does not own.
    static func parse(_ name: String) -> Kind? {
        if name == "CURRENT" { return .current }
        if name == "LOCK" { return .lock }
        if name.hasPrefix("MANIFEST-") {
            return UInt64(name.dropFirst("MANIFEST-".count)).map { .manifest($0) }
        }
        guard let dot = name.firstIndex(of: "."), let n = UInt64(name[..<dot]) else { return nil }
        switch name[name.index(after: dot)...] {
        case "log": return .log(n)
        case "sst": return .table(n)
        case "dbtmp": return .temp(n)
        default: return nil
        }
    }
}
