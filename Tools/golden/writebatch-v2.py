#!/usr/bin/env python3
"""Writes Tests/OsmanthusStorageTests/Golden/writebatch-v2.bin from SPEC.md §5 alone (not with
the engine's code): a format 2 write batch with two spliced records, one taking its value from
the record just before it, one from three records back."""
import struct, sys

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80); v >>= 7
    out.append(v)
    return bytes(out)

def field(b):
    return varint(len(b)) + b

def put(key, value):
    return b"\x01" + field(key) + field(value)

def delete(key):
    return b"\x00" + field(key)

def spliced(key, source, head):
    return b"\x02" + field(key) + varint(source) + field(head)

sequence = 42
records = [
    put(b"copy", b"{doc}"),                                      # 42
    spliced(b"\x20" + struct.pack(">Q", 43), 1, b"ins:"),        # 43: "ins:{doc}"
    delete(b"gone"),                                             # 44
    spliced(b"again", 3, b""),                                   # 45: "{doc}"
]
batch = struct.pack("<QI", sequence, len(records)) + b"".join(records)
out = sys.argv[1] if len(sys.argv) > 1 else "Tests/OsmanthusStorageTests/Golden/writebatch-v2.bin"
open(out, "wb").write(batch)
print(len(batch), batch.hex(" "))
