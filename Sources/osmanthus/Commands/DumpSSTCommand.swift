import ArgumentParser
import OsmanthusStorage

/// `osmanthus dump-sst FILE`: every entry of a table as `key @sequence kind => value`.
struct DumpSSTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-sst", abstract: "Print the entries of a table file.")

    @Argument(help: "A table file (NNNNNN.sst).")
    var file: String

    func run() throws {
        try Admin.run {
            let f = try PosixFileSystem().openReadable(file)
            let name = file.split(separator: "/").last.map(String.init) ?? file
            let number = UInt64(name.prefix { $0.isNumber }) ?? 0
            let it = try Table.open(file: f, fileNumber: number, cache: nil).makeIterator(fillCache: false)
            var entries = 0
            it.seekToFirst()
            while it.isValid {
                let key = it.key
                let kind = InternalKey.kind(key).map { $0 == .value ? "put" : "delete" } ?? "bad-kind"
                let head = "\(Admin.preview(InternalKey.userKey(key))) @\(InternalKey.sequence(key)) \(kind)"
                print(kind == "put" ? head + " => " + Admin.preview(it.value) : head)
                entries += 1
                it.next()
            }
            if let e = it.error { throw e }
            print("\(entries) entries, \(f.size) bytes")
        }
    }
}
