import FoundationEssentials
import Glibc

/// A fresh, uniquely named directory under /tmp; `remove()` deletes it and all it holds.
struct ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/osmanthus-crash-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        guard made else { throw ChildProcess.Failure(description: "mkdtemp failed: errno \(errno)") }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
