import Foundation

/// A fresh, uniquely named directory under /tmp for one test; `remove()` deletes it and
/// everything in it.
struct TestDirectory {
    let path: String

    init() {
        var template = Array("/tmp/osmanthus-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: errno \(errno)")
        path = String(cString: made!)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
