/// A cursor over internal keys in `InternalKey.compare` order: the interface shared by memtable,
/// block, table, level and merging iterators.
///
/// `key` and `value` may only be read while `isValid`. An iterator that meets damaged data becomes
/// invalid and reports it through `error`; callers check `error` when iteration ends.
public protocol InternalIterator: AnyObject {
    var isValid: Bool { get }
    /// Internal key at the cursor.
    var key: [UInt8] { get }
    var value: [UInt8] { get }
    var error: StorageError? { get }

    /// Lends the key's bytes without copying them; they are valid only inside `body`, and only
    /// until the iterator moves. (The `key` array may cost an allocation per call.)
    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    /// Lends the value's bytes like `withKey`.
    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R

    func seekToFirst()
    func seekToLast()
    /// Positions at the first entry with key ≥ `target` (an internal key).
    func seek(_ target: [UInt8])
    func next()
    func prev()
}

extension InternalIterator {
    public func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try key.withUnsafeBytes(body)
    }

    public func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try value.withUnsafeBytes(body)
    }
}

/// An iterator over nothing, or one that carries an error.
public final class EmptyIterator: InternalIterator {
    public let error: StorageError?
    public init(error: StorageError? = nil) { self.error = error }
    public var isValid: Bool { false }
    public var key: [UInt8] { preconditionFailure("EmptyIterator has no key") }
    public var value: [UInt8] { preconditionFailure("EmptyIterator has no value") }
    public func seekToFirst() {}
    public func seekToLast() {}
    public func seek(_ target: [UInt8]) {}
    public func next() {}
    public func prev() {}
}
