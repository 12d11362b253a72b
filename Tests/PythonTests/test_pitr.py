"""Point-in-time restore end to end: `serve --archive-repo` archives the change log, the CLI
restores `--at` a recorded instant, and a server over the result holds exactly that state."""
import datetime
import os
import subprocess
import time

from conftest import ServerProcess


def cli(*args):
    return subprocess.run([os.environ["OSMANTHUS_BIN"], *args], capture_output=True, text=True, timeout=120)


def segments(repo):
    d = os.path.join(repo, "changelog")
    return sorted(n for n in os.listdir(d) if n.endswith(".seg")) if os.path.isdir(d) else []


def snapshot(client):
    return {f"{d}.{c}": list(client[d][c].find({}, sort=[("_id", 1)]))
            for d in client.list_database_names() if d not in ("admin", "config", "local")
            for c in client[d].list_collection_names()}


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_serve_archives_and_restore_at_a_time_matches_that_instant(tmp_path):
    repo, data = str(tmp_path / "repo"), tmp_path / "data"
    args = ["--archive-repo", repo, "--archive-interval", "0.2"]
    server = ServerProcess(data, tmp_path / "a.log", args).start()
    with server.client() as client:
        client.app.c.insert_many([{"_id": i, "v": 0} for i in range(20)])
    assert server.stop() == 0
    created = cli("backup", "create", "--repo", repo, "--data-dir", str(data))
    assert created.returncode == 0, created.stderr

    server = ServerProcess(data, tmp_path / "b.log", args).start()
    with server.client() as client:
        before = len(segments(repo))
        client.app.c.update_many({"_id": {"$lt": 10}}, {"$set": {"v": 1, "sub.x": [1, 2]}})
        client.app.c.delete_many({"_id": {"$gte": 15}})
        client.app.d.insert_one({"_id": "new"})
        committed = time.monotonic()
        # The recovery point: how long until the commits are in a segment.
        while len(segments(repo)) == before and time.monotonic() - committed < 20:
            time.sleep(0.01)
        delay = time.monotonic() - committed
        assert len(segments(repo)) > before
        print(f"commit -> archived segment: {delay * 1000:.0f} ms (interval 200 ms)")
        expected = snapshot(client)
        at_ms = int(time.time() * 1000)
        while int(time.time() * 1000) <= at_ms + 1:
            time.sleep(0.001)
        client.app.c.update_many({}, {"$set": {"v": 2}})
        client.app.d.drop()
    assert server.stop() == 0  # the last pass archives the tail

    verify = cli("backup", "verify", "--repo", repo, "000001")
    assert verify.returncode == 0 and "change log: ok" in verify.stdout, verify.stdout + verify.stderr
    restored = tmp_path / "restored"
    r = cli("backup", "restore", "--repo", repo, "--to", str(restored), "--at", iso(at_ms))
    assert r.returncode == 0, r.stderr
    assert "change records" in r.stdout
    check = ServerProcess(restored, tmp_path / "c.log").start()
    try:
        with check.client() as client:
            assert snapshot(client) == expected
    finally:
        assert check.stop() == 0

    far = cli("backup", "restore", "--repo", repo, "--to", str(tmp_path / "far"), "--at", "seq:999999999")
    assert far.returncode == 1 and "reaches only sequence" in far.stderr
    bad = cli("backup", "restore", "--repo", repo, "--to", str(tmp_path / "bad"), "--at", "yesterday")
    assert bad.returncode == 1 and "seq:N" in bad.stderr
