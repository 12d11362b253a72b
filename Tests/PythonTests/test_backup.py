"""Automated backups in the server, and the admin tool acting on a running server (--server)."""
import json
import os
import subprocess
import time

import pytest
from pymongo.errors import OperationFailure

from conftest import ServerProcess


def osmanthus(*args, check=True):
    result = subprocess.run([os.environ["OSMANTHUS_BIN"], *args], capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, f"osmanthus {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result


def listed(repo):
    return json.loads(osmanthus("backup", "list", "--repo", str(repo), "--json").stdout)


def test_scheduled_backups_run_verify_and_prune(tmp_path):
    repo = tmp_path / "repo"
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", [
        "--backup-interval", "1s", "--backup-dir", str(repo), "--backup-keep-last", "2",
        "--backup-keep-hourly", "0", "--backup-keep-daily", "0", "--backup-keep-weekly", "0",
        "--backup-keep-monthly", "0"]).start()
    try:
        with server.client() as client:
            deadline = time.monotonic() + 60
            i = 0
            status = {}
            while time.monotonic() < deadline:
                client.app.things.insert_one({"_id": i})
                i += 1
                status = client.admin.command("osmanthusBackup", 1, action="status")
                if status["successes"] >= 3:
                    break
                time.sleep(0.05)
            assert status["successes"] >= 3, status
            assert status["failures"] == 0
            assert status["schedule"] == "every 1s"
            assert "lastError" not in status
        backups = listed(repo)
        # Retention ran after each backup: at most the newest two (plus one taken meanwhile).
        assert 1 <= len(backups) <= 3
        for b in backups:
            assert "ok" in osmanthus("backup", "verify", "--repo", str(repo), b["id"]).stdout
    finally:
        assert server.stop() == 0, server.read_log()
    log = server.read_log()
    assert "backup " in log and " taken: " in log


def test_admin_tool_online_against_a_running_server(tmp_path):
    repo = tmp_path / "repo"
    data = tmp_path / "data"
    server = ServerProcess(data, tmp_path / "server.log", ["--backup-interval", "off", "--backup-dir", str(repo)])
    server.start()
    try:
        with server.client() as client:
            client.app.things.insert_many([{"_id": i, "v": "x" * i} for i in range(500)])

        # Offline commands refuse the live directory and say how to go online.
        refused = osmanthus("stats", "--data-dir", str(data), check=False)
        assert refused.returncode == 1
        assert "in use by a running process" in refused.stderr and "--server" in refused.stderr

        created = osmanthus("backup", "create", "--server", server.uri, "--json")
        backup = json.loads(created.stdout)
        assert backup["verified"] is True
        backup_id = backup["backup"]["id"]

        listing = json.loads(osmanthus("backup", "list", "--server", server.uri, "--json").stdout)
        assert [b["id"] for b in listing["backups"]] == [backup_id]
        assert listing["repository"] == str(repo)
        assert "ok" in osmanthus("backup", "verify", "--server", server.uri).stdout
        # The same repository, read offline, agrees.
        assert [b["id"] for b in listed(repo)] == [backup_id]

        stats = json.loads(osmanthus("stats", "--host", server.host, "--port", str(server.port), "--json").stdout)
        assert stats["sequence"] >= 500
        assert "compacted:" in osmanthus("compact", "--server", server.uri).stdout
        # After the compaction the documents sit in tables; the repository is on the data's file
        # system, so the next backup links them and the server's reply says so.
        again = json.loads(osmanthus("backup", "create", "--server", server.uri, "--json").stdout)["backup"]
        assert again["copiedFiles"] >= 1 and again["linkedFiles"] == again["copiedFiles"]
        snapshot = tmp_path / "snap"
        assert "snapshot" in osmanthus("snapshot", "--server", server.uri, "--to", str(snapshot)).stdout

        # Errors from the server come back as one line and exit 1.
        bad = osmanthus("backup", "verify", "--server", server.uri, "999999", check=False)
        assert bad.returncode == 1 and "no backup 999999" in bad.stderr
        with server.client() as client:
            with pytest.raises(OperationFailure):
                client.app.command("osmanthusStats", 1)  # admin database only
    finally:
        assert server.stop() == 0, server.read_log()

    # The backup restores into a database holding every document; so does the snapshot.
    osmanthus("backup", "restore", "--repo", str(repo), backup_id, "--to", str(tmp_path / "restored"))
    for target in [tmp_path / "restored", snapshot]:
        copy = ServerProcess(target, tmp_path / f"{target.name}.log", ["--backup-interval", "off"]).start()
        try:
            with copy.client() as client:
                docs = list(client.app.things.find().sort("_id", 1))
                assert [d["_id"] for d in docs] == list(range(500))
                assert all(d["v"] == "x" * d["_id"] for d in docs)
        finally:
            assert copy.stop() == 0


def test_server_refuses_a_bad_schedule(tmp_path):
    result = osmanthus("serve", "--data-dir", str(tmp_path / "d"), "--port", "0", "--backup-interval", "every day",
                       check=False)
    assert result.returncode != 0
    assert "backup-interval" in result.stderr


def test_unwritable_repository_fails_backups_but_not_the_server(tmp_path):
    repo = tmp_path / "repo"
    repo.write_text("a file, not a directory")
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log",
                           ["--backup-interval", "1s", "--backup-dir", str(repo)]).start()
    try:
        with server.client() as client:
            deadline = time.monotonic() + 30
            status = {}
            while time.monotonic() < deadline:
                status = client.admin.command("osmanthusBackup", 1, action="status")
                if status["failures"] >= 2:
                    break
                time.sleep(0.1)
            assert status["failures"] >= 2 and status["successes"] == 0
            assert "lastError" in status
            client.app.things.insert_one({"_id": 1})
            assert client.app.things.count_documents({}) == 1
    finally:
        assert server.stop() == 0
