import FoundationEssentials
import Glibc

/// A fresh, uniquely named directory under /tmp; `remove()` deletes it and all it holds.
struct ScratchDirectory {
    let path: String

    init() {
        var template = Array("/tmp/osmanthus-server-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        precondition(made, "mkdtemp failed: errno \(errno)")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
