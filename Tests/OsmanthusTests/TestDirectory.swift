import FoundationEssentials
import Glibc

/// A fresh directory under /tmp for one test; `remove()` deletes it.
struct TestDirectory {
    let path: String

    init() {
        var template = Array("/tmp/osmanthus-doc-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkdtemp($0) != nil } ?? false
        }
        precondition(made, "mkdtemp failed: errno \(errno)")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
