import Glibc

/// A fresh, uniquely named directory under /tmp for one test; `remove()` deletes it and its
/// contents.
struct TestDirectory {
    let path: String

    init() {
        var template = Array("/tmp/osmanthus-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buf -> Bool in
            guard let base = buf.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        precondition(created, "mkdtemp failed: errno \(errno)")
        path = template.withUnsafeBufferPointer { buf in
            String(cString: buf.baseAddress!)
        }
    }

    func remove() {
        Self.removeTree(path)
    }

    private static func removeTree(_ path: String) {
        if let dir = opendir(path) {
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) { ptr in
                    ptr.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(dir)
            for name in names {
                let child = path + "/" + name
                var st = stat()
                if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                    removeTree(child)
                } else {
                    unlink(child)
                }
            }
        }
        rmdir(path)
    }
}
