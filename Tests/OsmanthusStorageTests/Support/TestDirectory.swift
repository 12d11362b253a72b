import FoundationEssentials
import Glibc

/// A fresh, uniquely named directory under /tmp for one test; `remove()` deletes it and all it
/// holds.
struct TestDirectory {
    let path: String

    init() {
        var template = Array("/tmp/osmanthus-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!) != nil
        }
        precondition(made, "mkdtemp failed: errno \(errno)")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
