"""Backups pushed to S3-compatible storage: moto's server on a free loopback port."""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import ServerProcess

moto = shutil.which("moto_server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_endpoint():
    if moto is None:
        pytest.fail("moto_server is not installed (Tools/setup installs moto[server])")
    port = free_port()
    process = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("moto_server did not start")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


def run(*args, env=None, check=True):
    result = subprocess.run([os.environ["OSMANTHUS_BIN"], *args], capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert result.returncode == 0, f"osmanthus {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result


def test_push_list_verify_restore_prune_against_moto(tmp_path, s3_endpoint):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
               AWS_ENDPOINT_URL=s3_endpoint)
    data, repo = tmp_path / "data", tmp_path / "repo"
    # A database with two backups (the second adds data, so it shares tables with the first).
    lines = "".join(json.dumps({"_id": i, "v": "x" * (i % 300)}) + "\n" for i in range(3000))
    (tmp_path / "things.jsonl").write_text(lines)
    run("import", "--data-dir", str(data), "--db", "app", "--file", str(tmp_path / "things.jsonl"))
    run("compact", "--data-dir", str(data))
    run("backup", "create", "--repo", str(repo), "--data-dir", str(data))
    (tmp_path / "more.jsonl").write_text("".join(json.dumps({"_id": 10000 + i}) + "\n" for i in range(100)))
    run("import", "--data-dir", str(data), "--db", "app", "--collection", "things", "--file", str(tmp_path / "more.jsonl"))
    run("backup", "create", "--repo", str(repo), "--data-dir", str(data))

    target = "s3://osm-backups/nightly/db1"
    pushed = json.loads(run("backup", "s3", "push", "--s3", target, "--repo", str(repo), "--create-bucket", "--json",
                            env=env).stdout)
    assert pushed["pushed"] == ["000001", "000002"]
    assert pushed["skippedObjects"] >= 1  # the second backup's shared tables were not uploaded again
    # Pushing again uploads nothing.
    assert json.loads(run("backup", "s3", "push", "--s3", target, "--repo", str(repo), "--json", env=env).stdout)["pushed"] == []

    remote = json.loads(run("backup", "s3", "list", "--s3", target, "--json", env=env).stdout)
    local = json.loads(run("backup", "list", "--repo", str(repo), "--json").stdout)
    assert remote == local
    assert "ok" in run("backup", "s3", "verify", "--s3", target, "000002", env=env).stdout

    # Restore from the bucket, export both sides: every document equal.
    run("backup", "s3", "restore", "--s3", target, "000002", "--to", str(tmp_path / "restored"), env=env)
    run("export", "--data-dir", str(data), "--db", "app", "--collection", "things", "--out", str(tmp_path / "a.jsonl"),
        "--canonical")
    run("export", "--data-dir", str(tmp_path / "restored"), "--db", "app", "--collection", "things",
        "--out", str(tmp_path / "b.jsonl"), "--canonical")
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 3100

    # Damage one object in the bucket: verify names it, restore refuses and leaves no database.
    import boto3
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    manifest = json.loads(s3.get_object(Bucket="osm-backups", Key="nightly/db1/backups/000002/manifest.json")["Body"].read())
    table = next(f for f in manifest["files"] if f["object"].startswith("files/"))
    key = "nightly/db1/" + table["object"]
    body = bytearray(s3.get_object(Bucket="osm-backups", Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3.put_object(Bucket="osm-backups", Key=key, Body=bytes(body))
    bad = run("backup", "s3", "verify", "--s3", target, "000002", env=env, check=False)
    assert bad.returncode == 1 and table["name"] in bad.stdout and "crc32c" in bad.stdout
    refused = run("backup", "s3", "restore", "--s3", target, "000002", "--to", str(tmp_path / "r2"), env=env, check=False)
    assert refused.returncode == 1 and table["name"] in refused.stderr
    assert not (tmp_path / "r2" / "CURRENT").exists()

    # A partial upload (objects without a manifest) is invisible and pruned with the old backup.
    s3.put_object(Bucket="osm-backups", Key="nightly/db1/backups/000009/CURRENT", Body=b"x")
    assert [b["id"] for b in json.loads(run("backup", "s3", "list", "--s3", target, "--json", env=env).stdout)] == \
        ["000001", "000002"]
    assert "removed 1 backups" in run("backup", "s3", "prune", "--s3", target, "--keep-last", "1", env=env).stdout
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="osm-backups", Prefix="nightly/db1/").get("Contents", [])]
    assert not any("/backups/000001/" in k or "/backups/000009/" in k for k in keys)
    referenced = {"nightly/db1/" + f["object"] for f in manifest["files"]}
    assert {k for k in keys if "/files/" in k} == {k for k in referenced if "/files/" in k}


def remote_backups(s3, bucket, prefix):
    """The published backups under `prefix`: their manifests, oldest first."""
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/backups/").get("Contents", [])]
    manifests = []
    for k in keys:
        if not k.endswith("/manifest.json"):
            continue
        try:
            manifests.append(json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))
        except s3.exceptions.NoSuchKey:
            pass  # pruned by the server between the listing and the read
    return sorted(manifests, key=lambda m: int(m["id"]))


def test_scheduled_backups_are_pushed_to_s3_and_restore_from_there(tmp_path, s3_endpoint, monkeypatch):
    import boto3
    from bson import json_util
    for k, v in [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1")]:
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="osm-scheduled")
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", [
        "--backup-interval", "1s", "--backup-dir", str(tmp_path / "staging"),
        "--backup-s3-endpoint", s3_endpoint, "--backup-s3-bucket", "osm-scheduled", "--backup-s3-prefix", "prod/db1",
        "--backup-keep-last", "2", "--backup-keep-hourly", "0", "--backup-keep-daily", "0",
        "--backup-keep-weekly", "0", "--backup-keep-monthly", "0"]).start()
    try:
        with server.client() as client:
            docs = [{"_id": i, "name": f"n{i}", "pad": "p" * (i % 50)} for i in range(2000)]
            client.app.things.insert_many(docs)
            client.app.things.create_index("name")
            written = client.admin.command("osmanthusStats")["sequence"]
            # A backup holding every write above appears in the bucket, then retention prunes
            # the bucket to the newest two.
            deadline = time.monotonic() + 90
            pushed = []
            while time.monotonic() < deadline:
                pushed = remote_backups(s3, "osm-scheduled", "prod/db1")
                status = client.admin.command("osmanthusBackup", 1, action="status")
                if pushed and pushed[-1]["sequence"] >= written and status["successes"] >= 4:
                    break
                time.sleep(0.2)
            assert pushed and pushed[-1]["sequence"] >= written, (pushed, status)
            assert status["successes"] >= 4 and status["failures"] == 0, status
            assert status["remoteRepository"] == "s3://osm-scheduled/prod/db1"
            expected = list(client.app.things.find().sort("_id", 1))
    finally:
        assert server.stop() == 0, server.read_log()
    log = server.read_log()
    assert "pushed" in log and "s3://osm-scheduled/prod/db1" in log
    # Pruned after each push to the newest two; later backups only add writes (none here).
    final = remote_backups(s3, "osm-scheduled", "prod/db1")
    assert len(final) == 2 and final[-1]["sequence"] >= written, final

    # Restore the newest pushed backup with the admin tool from the bucket alone.
    target = "s3://osm-scheduled/prod/db1"
    env = dict(os.environ, AWS_ENDPOINT_URL=s3_endpoint)
    newest = final[-1]["id"]
    assert "ok" in run("backup", "s3", "verify", "--s3", target, newest, env=env).stdout
    run("backup", "s3", "restore", "--s3", target, newest, "--to", str(tmp_path / "restored"), env=env)
    out = tmp_path / "restored.jsonl"
    run("export", "--data-dir", str(tmp_path / "restored"), "--db", "app", "--collection", "things",
        "--out", str(out), "--canonical")
    restored = sorted((json_util.loads(line) for line in out.read_text().splitlines()), key=lambda d: d["_id"])
    assert restored == expected
    sidecar = json.loads((tmp_path / "things.indexes.json").read_text())
    assert "name_1" in [i["name"] for i in sidecar["indexes"]]
