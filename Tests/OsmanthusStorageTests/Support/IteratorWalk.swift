import Testing

@testable import OsmanthusStorage

/// Drives an `InternalIterator` and a sorted reference array through the same random moves and
/// reports the first place they disagree.
enum IteratorWalk {
    typealias Entry = (key: [UInt8], value: [UInt8])

    /// Index of the first reference entry ≥ `target` (`reference.count` when none).
    static func lowerBound(_ reference: [Entry], _ target: [UInt8]) -> Int {
        var low = 0
        var high = reference.count
        while low < high {
            let mid = (low + high) / 2
            if InternalKey.compare(reference[mid].key, target) < 0 { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Whether the iterator stands where `position` does (nil: invalid).
    static func matches(_ iterator: InternalIterator, _ reference: [Entry], _ position: Int?) -> Bool {
        guard let position else { return !iterator.isValid }
        return iterator.isValid && iterator.key == reference[position].key
            && iterator.value == reference[position].value
    }

    /// Forward from the first entry: every entry, in order.
    static func forwardKeys(_ iterator: InternalIterator) -> [Entry] {
        var out: [Entry] = []
        iterator.seekToFirst()
        while iterator.isValid {
            out.append((iterator.key, iterator.value))
            iterator.next()
        }
        return out
    }

    /// Backward from the last entry: every entry, in reverse order.
    static func backwardKeys(_ iterator: InternalIterator) -> [Entry] {
        var out: [Entry] = []
        iterator.seekToLast()
        while iterator.isValid {
            out.append((iterator.key, iterator.value))
            iterator.prev()
        }
        return out
    }

    /// `steps` random moves (next, prev, seek to a probe key, seekToFirst, seekToLast), checking
    /// the position after each. `probes` are seek targets; include keys absent from `reference`.
    static func randomWalk(
        _ iterator: InternalIterator, _ reference: [Entry], probes: [[UInt8]], steps: Int,
        using rng: inout SplitMix64, context: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var position: Int? = nil
        for step in 0..<steps {
            let move = Int.random(in: 0..<10, using: &rng)
            var label: String
            if position != nil && move < 4 {
                label = "next"
                iterator.next()
                position = position.map { $0 + 1 < reference.count ? $0 + 1 : nil } ?? nil
            } else if position != nil && move < 8 {
                label = "prev"
                iterator.prev()
                position = position.map { $0 > 0 ? $0 - 1 : nil } ?? nil
            } else if move == 8, let target = probes.randomElement(using: &rng) {
                label = "seek"
                iterator.seek(target)
                let found = lowerBound(reference, target)
                position = found < reference.count ? found : nil
            } else if Bool.random(using: &rng) {
                label = "seekToFirst"
                iterator.seekToFirst()
                position = reference.isEmpty ? nil : 0
            } else {
                label = "seekToLast"
                iterator.seekToLast()
                position = reference.isEmpty ? nil : reference.count - 1
            }
            let ok = matches(iterator, reference, position)
            #expect(ok, "\(context): step \(step) (\(label)) expected position \(String(describing: position))",
                sourceLocation: sourceLocation)
            if !ok { return }
        }
    }
}
