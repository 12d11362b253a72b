#!/usr/bin/env python3
"""Writes Tests/OsmanthusStorageTests/Golden/table-v2.sst from SPEC.md §7 alone (not with the
engine's code): 40 entries in two data blocks with packed trailers (§7.3), the first lz4 (0x81),
the second stored packed without compression (0x80); an empty filter; a plain index block."""
import ctypes, struct, sys

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80); v >>= 7
    out.append(v)
    return bytes(out)

def ikey(user, seq, kind=1):
    return user + struct.pack("<Q", seq << 8 | kind)

def block(entries, interval):
    """Plain block (§7.2) and its packed form (§7.3)."""
    plain, packed, restarts, last = bytearray(), bytearray(), [], b""
    for i, (k, v) in enumerate(entries):
        shared = 0
        if i % interval == 0:
            restarts.append(len(plain))
        else:
            while shared < min(len(k), len(last)) and k[shared] == last[shared]: shared += 1
        unshared = len(k) - shared
        head = varint(shared) + varint(unshared) + varint(len(v))
        plain += head + k[shared:] + v
        delta = k[shared:]
        if unshared >= 8:
            delta = delta[:-8] + varint(struct.unpack("<Q", delta[-8:])[0])
        packed += head + delta + v
        last = k
    tail = b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    plain += tail
    packed += tail + struct.pack("<I", len(plain))
    return bytes(plain), bytes(packed)

def lz4(data):
    lib = ctypes.CDLL("liblz4.so.1")
    bound = lib.LZ4_compressBound(len(data)); out = ctypes.create_string_buffer(bound)
    n = lib.LZ4_compress_default(data, out, len(data), bound)
    return varint(len(data)) + out.raw[:n]

entries = []
for i in range(40):
    user = b"key%03d" % i
    if i == 7:
        entries.append((ikey(user, 300, 0), b""))            # a deletion, newest first
    entries.append((ikey(user, 100 + i), (b"value %d, " % i) * 4))
first, second = entries[:24], entries[24:]

table = bytearray()
def put(stored, compression):
    off = len(table)
    table.extend(stored + bytes([compression]) + struct.pack("<I", mask(crc32c(stored + bytes([compression])))))
    return off, len(stored)

_, p1 = block(first, 16); _, p2 = block(second, 16)
h1 = put(lz4(p1), 0x81)
h2 = put(p2, 0x80)
hf = put(b"", 0x00)                                        # empty filter: matches every key
index = [(first[-1][0], varint(h1[0]) + varint(h1[1])), (second[-1][0], varint(h2[0]) + varint(h2[1]))]
iplain, _ = block(index, 1)
hi = put(iplain, 0x00)
footer = varint(hf[0]) + varint(hf[1]) + varint(hi[0]) + varint(hi[1])
footer += bytes(40 - len(footer)) + struct.pack("<I", 2)
footer += struct.pack("<I", mask(crc32c(footer))) + struct.pack("<Q", 0x656C6261746D736F)
table += footer
open(sys.argv[1], "wb").write(table)
print(len(table), "bytes;", len(entries), "entries")
