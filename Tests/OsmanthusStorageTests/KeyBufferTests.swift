import Testing

@testable import OsmanthusStorage

struct KeyBufferTests {
    private func append(_ bytes: [UInt8], to buffer: inout KeyBuffer) {
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { buffer.append(base, count: raw.count) }
        }
    }

    @Test func startsEmptyWithAtLeastTheMinimumCapacity() {
        let buffer = KeyBuffer(capacity: 0)
        #expect(buffer.count == 0)
        #expect(buffer.array.isEmpty)
        #expect(buffer.capacity >= KeyBuffer.minimumCapacity)
    }

    @Test func truncateThenAppendRebuildsAPrefixSharingKey() {
        var buffer = KeyBuffer()
        append(Array("apple-pie".utf8), to: &buffer)
        buffer.truncate(to: 6)
        append(Array("tart".utf8), to: &buffer)
        #expect(buffer.array == Array("apple-tart".utf8))
        #expect(Array(buffer.bytes) == Array("apple-tart".utf8))
    }

    @Test func growingPastCapacityKeepsTheBytes() {
        var buffer = KeyBuffer(capacity: 32)
        var expected: [UInt8] = []
        for i in 0..<300 {
            let chunk = [UInt8(truncatingIfNeeded: i), UInt8(truncatingIfNeeded: i * 7)]
            append(chunk, to: &buffer)
            expected += chunk
        }
        #expect(buffer.count == 600)
        #expect(buffer.capacity >= 600)
        #expect(buffer.array == expected)
    }

    @Test func removeAllEmptiesButKeepsTheMemory() {
        var buffer = KeyBuffer()
        append([UInt8](repeating: 5, count: 100), to: &buffer)
        let capacity = buffer.capacity
        buffer.removeAll()
        #expect(buffer.count == 0)
        #expect(buffer.capacity == capacity)
        append([1, 2], to: &buffer)
        #expect(buffer.array == [1, 2])
    }

    @Test func appendingNothingChangesNothing() {
        var buffer = KeyBuffer()
        append([9, 8], to: &buffer)
        append([], to: &buffer)
        #expect(buffer.array == [9, 8])
    }

    @Test func assignReplacesTheContents() {
        var buffer = KeyBuffer()
        append(Array("a much longer old key".utf8), to: &buffer)
        let new: [UInt8] = [3, 1, 4]
        new.withUnsafeBytes { buffer.assign($0) }
        #expect(buffer.array == new)
        [UInt8]().withUnsafeBytes { buffer.assign($0) }
        #expect(buffer.count == 0)
    }
}
