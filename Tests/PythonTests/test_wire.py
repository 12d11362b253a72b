"""The wire protocol from a raw socket: malformed input closes only that connection."""
import socket
import struct

import bson
import pytest


def connect(server):
    return socket.create_connection((server.host, server.port), timeout=10)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_message(sock):
    header = recv_exact(sock, 16)
    length, request_id, response_to, op_code = struct.unpack("<iiii", header)
    return request_id, response_to, op_code, recv_exact(sock, length - 16)


def op_msg(request_id, command, flags=0):
    body = struct.pack("<I", flags) + b"\x00" + bson.encode(command)
    return struct.pack("<iiii", 16 + len(body), request_id, 0, 2013) + body


def assert_closed(sock):
    sock.settimeout(10)
    try:
        data = sock.recv(1)
    except ConnectionResetError:
        return
    assert data == b""


def test_op_msg_ping_from_a_raw_socket(server):
    with connect(server) as sock:
        sock.sendall(op_msg(7, {"ping": 1, "$db": "admin"}))
        _, response_to, op_code, payload = read_message(sock)
        assert response_to == 7 and op_code == 2013
        flags, kind = struct.unpack("<IB", payload[:5])
        assert flags == 0 and kind == 0
        assert bson.decode(payload[5:]) == {"ok": 1.0}


def test_op_msg_without_db_is_an_error_reply(server):
    with connect(server) as sock:
        sock.sendall(op_msg(1, {"ping": 1}))
        _, _, _, payload = read_message(sock)
        reply = bson.decode(payload[5:])
        assert reply["ok"] == 0.0 and reply["code"] == 40571


def test_legacy_op_query_handshake_gets_op_reply(server):
    query = bson.encode({"isMaster": 1, "helloOk": True})
    body = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
    with connect(server) as sock:
        sock.sendall(struct.pack("<iiii", 16 + len(body), 3, 0, 2004) + body)
        _, response_to, op_code, payload = read_message(sock)
        assert response_to == 3 and op_code == 1
        flags, cursor_id, starting_from, returned = struct.unpack("<iqii", payload[:20])
        assert cursor_id == 0 and returned == 1
        reply = bson.decode(payload[20:])
        assert reply["ismaster"] is True and reply["helloOk"] is True


def test_op_query_other_than_handshake_is_a_query_failure(server):
    body = struct.pack("<i", 0) + b"test.coll\x00" + struct.pack("<ii", 0, -1) + bson.encode({})
    with connect(server) as sock:
        sock.sendall(struct.pack("<iiii", 16 + len(body), 4, 0, 2004) + body)
        _, _, op_code, payload = read_message(sock)
        flags = struct.unpack("<i", payload[:4])[0]
        assert op_code == 1 and flags & 2
        assert bson.decode(payload[20:])["code"] == 352


def test_more_to_come_request_gets_no_reply(server):
    with connect(server) as sock:
        sock.sendall(op_msg(1, {"ping": 1, "$db": "admin"}, flags=2))
        sock.sendall(op_msg(2, {"ping": 1, "$db": "admin"}))
        _, response_to, _, _ = read_message(sock)
        assert response_to == 2


@pytest.mark.parametrize("length", [0, 15, -1, 48_000_001])
def test_bad_length_closes_the_connection(server, client, length):
    with connect(server) as sock:
        sock.sendall(struct.pack("<i", length) + b"\x00" * 12)
        assert_closed(sock)
    assert client.admin.command("ping")["ok"] == 1.0


def test_garbage_closes_the_connection_and_the_server_survives(server, client):
    import random
    rng = random.Random(1234)
    for _ in range(20):
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
        op_code = rng.choice([2013, 2004, 2012, 1, 2002])
        with connect(server) as sock:
            sock.sendall(struct.pack("<iiii", 16 + len(payload), 1, 0, op_code) + payload)
            sock.settimeout(10)
            try:
                data = sock.recv(1 << 16)
            except ConnectionResetError:
                data = b""
            # Either a reply (bytes that happened to parse) or a closed connection.
            assert data == b"" or len(data) >= 16
    assert client.admin.command("ping")["ok"] == 1.0


def test_pipelined_requests_are_answered_in_order(server):
    with connect(server) as sock:
        sock.sendall(b"".join(op_msg(i, {"ping": 1, "$db": "admin"}) for i in range(1, 501)))
        assert [read_message(sock)[1] for _ in range(500)] == list(range(1, 501))


def op_msg_with_sequence(request_id, command, identifier, documents, flags=0):
    sequence = identifier.encode() + b"\x00" + b"".join(bson.encode(d) for d in documents)
    body = (struct.pack("<I", flags) + b"\x00" + bson.encode(command)
            + b"\x01" + struct.pack("<i", 4 + len(sequence)) + sequence)
    return struct.pack("<iiii", 16 + len(body), request_id, 0, 2013) + body


def test_unacknowledged_insert_with_a_document_sequence_is_applied_in_order(server, client):
    docs = [{"_id": i} for i in range(3)]
    with connect(server) as sock:
        sock.sendall(op_msg_with_sequence(1, {"insert": "raw", "$db": "t_wire_raw"}, "documents", docs, flags=2))
        sock.sendall(op_msg(2, {"find": "raw", "filter": {}, "$db": "t_wire_raw"}))
        _, response_to, _, payload = read_message(sock)
        assert response_to == 2
        reply = bson.decode(payload[5:])
        assert [d["_id"] for d in reply["cursor"]["firstBatch"]] == [0, 1, 2]
    client.drop_database("t_wire_raw")


def test_thousands_of_pipelined_failing_requests_are_all_answered(server):
    """Requests answered without a command thread (no $db) must not recurse per message."""
    count = 5000
    with connect(server) as sock:
        sock.sendall(b"".join(op_msg(i, {"ping": 1}) for i in range(1, count + 1)))
        answered = [read_message(sock)[1] for _ in range(count)]
    assert answered == list(range(1, count + 1))
