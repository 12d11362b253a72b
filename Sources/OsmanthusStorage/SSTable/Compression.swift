import Glibc
import CLZ4
import CZstd
import Synchronization

/// Block compression (SPEC.md §7.3).
///
/// - lz4: `varint uncompressedLength ‖ lz4 block` (the lz4 block format does not record its size).
/// - zstd: one zstd frame, which records its content size.
///
/// Decompression refuses anything that would exceed `TableFormat.maxBlockSize` or does
/// not come out at exactly the announced size.
enum Compression {
    /// Compresses `input` into `output` (replacing its contents). false when `kind` is `.none` or
    /// the library failed; the caller then stores the block raw.
    static func compress(
        _ input: UnsafeRawBufferPointer, kind: CompressionKind, zstdLevel: Int32,
        zstd: ZstdCompressor? = nil, into output: inout [UInt8]
    ) -> Bool {
        output.removeAll(keepingCapacity: true)
        guard let src = input.baseAddress, input.count > 0 else { return false }
        switch kind {
        case .none:
            return false
        case .lz4:
            guard input.count <= 0x7E00_0000 else { return false }  // LZ4_MAX_INPUT_SIZE
            let bound = Int(LZ4_compressBound(Int32(input.count)))
            guard bound > 0 else { return false }
            output.appendVarint(input.count)
            let header = output.count
            output.append(contentsOf: [UInt8](repeating: 0, count: bound))  // an Array: memset, even unoptimized
            let written = output.withUnsafeMutableBytes { dst -> Int32 in
                guard let base = dst.baseAddress else { return 0 }
                return LZ4_compress_default(
                    src.assumingMemoryBound(to: CChar.self),
                    (base + header).assumingMemoryBound(to: CChar.self),
                    Int32(input.count), Int32(bound))
            }
            guard written > 0 else { return false }
            output.removeLast(bound - Int(written))
            return true
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            guard ZSTD_isError(bound) == 0 else { return false }
            output.append(contentsOf: [UInt8](repeating: 0, count: bound))  // an Array: memset, even unoptimized
            let written = output.withUnsafeMutableBytes { dst -> Int in
                guard let base = dst.baseAddress else { return 0 }
                if let zstd {
                    return ZSTD_compressCCtx(zstd.context, base, bound, src, input.count, zstdLevel)
                }
                return ZSTD_compress(base, bound, src, input.count, zstdLevel)
            }
            guard ZSTD_isError(written) == 0, written > 0 else {
                output.removeAll(keepingCapacity: true)
                return false
            }
            output.removeLast(bound - written)
            return true
        }
    }

    /// Compresses `input` into `scratch` for a table writer: the same bytes as `compress(into:)`
    /// would produce for zstd, an equivalent lz4 block for lz4, without zero-filling an output
    /// array per block, and with lz4's state reused (`Lz4Compressor`). Returns the compressed
    /// length (at the start of `scratch.memory`), or nil as `compress(into:)` returns false.
    static func compress(
        _ input: UnsafeRawBufferPointer, kind: CompressionKind, zstdLevel: Int32,
        zstd: ZstdCompressor?, lz4: Lz4Compressor?, scratch: CompressionScratch
    ) -> Int? {
        guard let src = input.baseAddress, input.count > 0 else { return nil }
        switch kind {
        case .none:
            return nil
        case .lz4:
            guard input.count <= 0x7E00_0000 else { return nil }  // LZ4_MAX_INPUT_SIZE
            let bound = Int(LZ4_compressBound(Int32(input.count)))
            guard bound > 0 else { return nil }
            let dst = scratch.reserve(10 + bound)  // a varint of up to 10 bytes, then the block
            let header = storeVarint(UInt64(input.count), at: dst)
            let out = (dst + header).assumingMemoryBound(to: CChar.self)
            let source = src.assumingMemoryBound(to: CChar.self)
            let written: Int32
            if let lz4 {
                LZ4_resetStream_fast(lz4.stream)
                written = LZ4_compress_fast_continue(lz4.stream, source, out, Int32(input.count), Int32(bound), 1)
            } else {
                written = LZ4_compress_default(source, out, Int32(input.count), Int32(bound))
            }
            return written > 0 ? header + Int(written) : nil
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            guard ZSTD_isError(bound) == 0 else { return nil }
            let dst = scratch.reserve(bound)
            let written =
                if let zstd {
                    ZSTD_compressCCtx(zstd.context, dst, bound, src, input.count, zstdLevel)
                } else {
                    ZSTD_compress(dst, bound, src, input.count, zstdLevel)
                }
            guard ZSTD_isError(written) == 0, written > 0 else { return nil }
            return written
        }
    }

    /// Decompresses a stored block. `file` and `offset` name the block in corruption errors.
    static func decompress(
        _ input: UnsafeRawBufferPointer, kind: CompressionKind, file: String, offset: UInt64
    ) throws -> [UInt8] {
        if kind == .none { return Array(input) }
        let (memory, count) = try decompressToMemory(input, kind: kind, file: file, offset: offset)
        defer { memory.deallocate() }
        return Array(UnsafeBufferPointer(start: memory, count: count))
    }

    /// Decompresses a compressed block (lz4 or zstd) into memory allocated here, so a table read
    /// can hand it to `Block(adopting:)` without another copy. The caller owns the memory (at
    /// least one byte, the first `count` initialized).
    static func decompressToMemory(
        _ input: UnsafeRawBufferPointer, kind: CompressionKind, file: String, offset: UInt64
    ) throws -> (memory: UnsafeMutablePointer<UInt8>, count: Int) {
        var allocated: UnsafeMutablePointer<UInt8>?
        do {
            let count = try decompress(input, kind: kind, file: file, offset: offset) { expected in
                let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: max(expected, 1))
                allocated = memory
                return memory
            }
            guard let memory = allocated else {
                // Only `.none` decodes without asking for memory, and it copies into some.
                throw StorageError.corruption("\(kind) block: nothing decoded", file: file, offset: offset)
            }
            return (memory, count)
        } catch {
            allocated?.deallocate()
            throw error
        }
    }

    /// Decompresses a block into `scratch` (its earlier contents are lost); returns the size.
    /// For a block that is decoded further at once (packed trailers), so no memory is allocated.
    static func decompress(
        _ input: UnsafeRawBufferPointer, kind: CompressionKind, file: String, offset: UInt64,
        into scratch: CompressionScratch
    ) throws -> Int {
        try decompress(input, kind: kind, file: file, offset: offset) { expected in
            scratch.reserve(max(expected, 1)).assumingMemoryBound(to: UInt8.self)
        }
    }

    /// Decompresses into the memory `destination` gives for the announced size (asked once,
    /// before decoding); returns the size. On a throw the memory holds nothing useful.
    @inline(__always)
    private static func decompress(
        _ input: UnsafeRawBufferPointer, kind: CompressionKind, file: String, offset: UInt64,
        destination: (Int) -> UnsafeMutablePointer<UInt8>
    ) throws -> Int {
        func corrupt(_ message: String) -> StorageError {
            StorageError.corruption("\(kind) block: \(message)", file: file, offset: offset)
        }
        let limit = TableFormat.maxBlockSize
        switch kind {
        case .none:
            let memory = destination(input.count)
            if let src = input.baseAddress {
                UnsafeMutableRawPointer(memory).copyMemory(from: src, byteCount: input.count)
            }
            return input.count
        case .lz4:
            let bytes = UnsafeBufferPointer(
                start: input.baseAddress?.assumingMemoryBound(to: UInt8.self), count: input.count)
            var position = 0
            guard let length = RawVarint.decode64(bytes, &position, end: bytes.count) else {
                throw corrupt("bad uncompressed-length varint")
            }
            guard length <= UInt64(limit) else { throw corrupt("uncompressed length \(length) exceeds limit") }
            let expected = Int(length)
            let payload = UnsafeRawBufferPointer(rebasing: input[position...])
            guard let src = payload.baseAddress, payload.count > 0 else { throw corrupt("empty payload") }
            guard payload.count <= Int(Int32.max) else { throw corrupt("payload too large") }
            let memory = destination(expected)
            let n = LZ4_decompress_safe(
                src.assumingMemoryBound(to: CChar.self),
                UnsafeMutableRawPointer(memory).assumingMemoryBound(to: CChar.self),
                Int32(payload.count), Int32(expected))
            guard n >= 0 && Int(n) == expected else {
                throw corrupt("lz4 payload does not decode to \(expected) bytes")
            }
            return expected
        case .zstd:
            guard let src = input.baseAddress, input.count > 0 else { throw corrupt("empty payload") }
            let size = ZSTD_getFrameContentSize(src, input.count)
            // UInt64.max and UInt64.max - 1 are "unknown" and "error".
            guard size < UInt64.max - 1 else { throw corrupt("not a zstd frame with a known size") }
            guard size <= UInt64(limit) else { throw corrupt("uncompressed length \(size) exceeds limit") }
            let expected = Int(size)
            let memory = destination(expected)
            let n = ZstdDecompressors.shared.withContext { dctx in
                if let dctx { return ZSTD_decompressDCtx(dctx, memory, expected, src, input.count) }
                return ZSTD_decompress(memory, expected, src, input.count)
            }
            guard ZSTD_isError(n) == 0 && n == expected else {
                throw corrupt("zstd payload does not decode to \(expected) bytes")
            }
            return expected
        }
    }
}

/// Per-thread scratch for reading blocks (`Table.readDecoded`): the stored bytes and, for a
/// compressed block with packed trailers, its decompressed form are both transient (only the
/// unpacked block is kept), so they go here instead of two allocations per block read.
/// Reached through a pthread key, so each thread has its own and no lock is needed; freed with
/// its thread.
final class BlockReadScratch {
    let stored = CompressionScratch()
    let decompressed = CompressionScratch()

    /// Blocks larger than this are read into memory of their own, so a thread that once read a
    /// huge block does not keep a huge scratch.
    static let limit = 64 << 10

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { raw in
            if let raw { Unmanaged<BlockReadScratch>.fromOpaque(raw).release() }
        }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// This thread's scratch, made on first use.
    static var current: BlockReadScratch {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<BlockReadScratch>.fromOpaque(raw).takeUnretainedValue()
        }
        let made = BlockReadScratch()
        pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
        return made
    }
}

/// An lz4 stream state reused across the blocks of one table: `LZ4_compress_default` clears a
/// fresh 16 KiB state for every block, which cost as much as a quarter of compressing a 4 KiB
/// block; `LZ4_resetStream_fast` before each block makes the blocks independent without that.
/// Owned by one `TableBuilder`: not thread-safe.
final class Lz4Compressor {
    let stream: UnsafeMutablePointer<LZ4_stream_t>

    init?() {
        guard let stream = LZ4_createStream() else { return nil }
        self.stream = stream
    }

    deinit { LZ4_freeStream(stream) }
}

/// Output memory for block compression, grown as needed and never zero-filled. Owned by one
/// `TableBuilder`: not thread-safe.
final class CompressionScratch {
    private(set) var memory: UnsafeMutableRawPointer
    private var capacity: Int

    init() {
        capacity = 8 << 10
        memory = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { memory.deallocate() }

    /// At least `count` bytes at `memory`; earlier contents are not kept.
    func reserve(_ count: Int) -> UnsafeMutableRawPointer {
        if count > capacity {
            memory.deallocate()
            capacity = max(count, capacity * 2)
            memory = .allocate(byteCount: capacity, alignment: 16)
        }
        return memory
    }
}

/// A zstd compression context, reused across the blocks of one table (creating one per block
/// costs more than compressing a 4 KiB block). Owned by one `TableBuilder`: not thread-safe.
final class ZstdCompressor {
    let context: OpaquePointer

    init?() {
        guard let context = ZSTD_createCCtx() else { return nil }
        self.context = context
    }

    deinit { ZSTD_freeCCtx(context) }
}

/// A small pool of zstd decompression contexts shared by all readers.
final class ZstdDecompressors: Sendable {
    static let shared = ZstdDecompressors()
    private static let maxPooled = 8

    /// Idle contexts, as address bit patterns (pointers are not Sendable). Guarded by the mutex;
    /// a context taken out is used by one thread at a time.
    private let idle = Mutex<[UInt]>([])

    func withContext<R>(_ body: (OpaquePointer?) -> R) -> R {
        let pooled = idle.withLock { $0.popLast() }
        let context = pooled.flatMap { OpaquePointer(bitPattern: $0) } ?? ZSTD_createDCtx()
        defer {
            if let context {
                let kept = idle.withLock { list -> Bool in
                    guard list.count < Self.maxPooled else { return false }
                    list.append(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(context))))
                    return true
                }
                if !kept { ZSTD_freeDCtx(context) }
            }
        }
        return body(context)
    }
}
