import OsmanthusBSON

#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer target for the BSON decoder (issue 3). `Tools/fuzz-bson` builds it with
/// `--sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING`; libFuzzer then supplies `main`.
/// A plain build gets the replay runner below instead: `bson-fuzz FILE…` runs each file once
/// (to reproduce a crash libFuzzer saved).
///
/// The property: arbitrary bytes either fail to decode with a `BSONError`, or give a document
/// that re-encodes to itself, both from its bytes and rebuilt value by value, and prints.
enum BSONFuzz {
    static func run(_ bytes: [UInt8]) {
        guard let document = try? Document(bytes: bytes) else { return }
        guard let again = try? Document(bytes: document.bytes), again == document else {
            fail("decoding the bytes of a decoded document gave a different document", bytes)
        }
        let rebuilt = Document(document.map { ($0.key, $0.value) })
        guard rebuilt == document else {
            fail("rebuilding a decoded document from its values changed its bytes", bytes)
        }
        // Printing walks every nested value; it must not trap.
        _ = document.description.utf8.count
    }

    static func fail(_ message: String, _ input: [UInt8]) -> Never {
        let hex = input.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        fatalError("\(message); input \(hex)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    BSONFuzz.run(bytes)
    return 0
}

#if !FUZZING
@main
struct BSONFuzzReplay {
    static func main() {
        var ran = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                print("bson-fuzz: cannot open \(path)")
                exit(2)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&chunk, 1, chunk.count, file)
                if n == 0 { break }
                bytes.append(contentsOf: chunk[..<n])
            }
            fclose(file)
            BSONFuzz.run(bytes)
            ran += 1
        }
        print("bson-fuzz: \(ran) input(s) ran without failure")
    }
}
#endif
