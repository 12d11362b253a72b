"""Hostile and heavy clients: broken frames, dropped connections, many idle connections, and a
SIGKILL under write load that must lose no acknowledged write."""
import resource
import signal
import socket
import struct
import threading
import time

from pymongo.errors import PyMongoError

from test_wire import connect, op_msg


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def still_serving(client):
    assert client.admin.command("ping")["ok"] == 1


def test_truncated_frames_and_mid_message_drops_leave_the_server_serving(server, client):
    whole = op_msg(1, {"insert": "x", "documents": [{"_id": i} for i in range(50)], "$db": "t_truncated"})
    for cut in (3, 15, 16, 21, len(whole) // 2, len(whole) - 1):
        sock = connect(server)
        sock.sendall(whole[:cut])
        sock.close()
    still_serving(client)
    assert client.t_truncated.x.count_documents({}) == 0  # no half message was applied
    client.drop_database("t_truncated")


def test_an_oversized_frame_closes_only_its_connection(server, client):
    sock = connect(server)
    sock.sendall(struct.pack("<iiii", 48_000_001, 1, 0, 2013) + b"\0" * 64)
    sock.settimeout(10)
    try:
        assert sock.recv(1) == b""
    except ConnectionResetError:
        pass
    sock.close()
    still_serving(client)


def test_a_valid_header_with_a_garbage_body_is_answered_or_closed(server, client):
    sock = connect(server)
    body = b"\x00\x00\x00\x00\x00" + b"\xff" * 40  # kind 0 section that is not BSON
    sock.sendall(struct.pack("<iiii", 16 + len(body), 7, 0, 2013) + body)
    sock.settimeout(10)
    try:
        data = sock.recv(1 << 16)
    except ConnectionResetError:
        data = b""
    sock.close()
    if data:  # an error reply, not a crash
        length, _, response_to, _ = struct.unpack("<iiii", data[:16])
        assert response_to == 7
    still_serving(client)


def test_a_thousand_idle_connections_do_not_stop_a_working_client(fresh_server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    fresh_server.start()
    pid = fresh_server.process.pid
    with fresh_server.client() as client:
        client.w.items.insert_one({"_id": "warm"})
        baseline = rss_kib(pid)
        idle = []
        try:
            for i in range(1000):
                sock = socket.create_connection((fresh_server.host, fresh_server.port))
                if i % 2 == 0:  # half of them also start a message and stall
                    sock.sendall(struct.pack("<i", 1000))
                idle.append(sock)
            started = time.monotonic()
            for i in range(200):
                client.w.items.insert_one({"_id": i})
                assert client.w.items.find_one({"_id": i}) == {"_id": i}
            elapsed = time.monotonic() - started
            loaded = rss_kib(pid)
            print(f"\nRSS idle {baseline} KiB, with 1000 idle connections {loaded} KiB; "
                  f"200 insert+find round trips beside them in {elapsed:.2f}s")
            assert elapsed < 30
            assert loaded - baseline < 64 * 1024  # < 64 KiB a connection
        finally:
            for sock in idle:
                sock.close()
        still_serving(client)
    assert fresh_server.stop() == 0


def test_sigkill_under_write_load_loses_no_acknowledged_insert(fresh_server):
    fresh_server.start()
    acknowledged = [[] for _ in range(4)]
    stop = threading.Event()

    def writer(n):
        with fresh_server.client(serverSelectionTimeoutMS=2000, retryWrites=False) as client:
            items = client.dur.items
            i = 0
            while not stop.is_set():
                try:
                    items.insert_one({"_id": f"{n}-{i}", "pad": "x" * 100})
                except PyMongoError:
                    return
                acknowledged[n].append(f"{n}-{i}")
                i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while sum(map(len, acknowledged)) < 400 and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh_server.process.send_signal(signal.SIGKILL)
    fresh_server.process.wait(30)
    stop.set()
    for thread in threads:
        thread.join(30)
    fresh_server.log.close()
    expected = {i for ids in acknowledged for i in ids}
    assert len(expected) >= 400
    fresh_server.start()
    with fresh_server.client() as client:
        present = {d["_id"] for d in client.dur.items.find({}, {"_id": 1})}
    missing = expected - present
    assert not missing, f"{len(missing)} acknowledged inserts lost, e.g. {sorted(missing)[:5]}"
    assert fresh_server.stop() == 0
