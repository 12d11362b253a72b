"""The HTTP operations port: /metrics (Prometheus text), /healthz, /readyz."""
import re
import socket
import urllib.error
import urllib.request

import pytest
from pymongo.errors import OperationFailure

from conftest import ServerProcess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(tmp_path):
    process = ServerProcess(tmp_path / "data", tmp_path / "server.log", ["--http-port", str(free_port())]).start()
    yield process
    assert process.stop() == 0


def get(server, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sample(text, name, labels=""):
    """The value of one sample line `name{labels} value` (labels given exactly as exposed)."""
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)$"
    for line in text.splitlines():
        match = re.match(pattern, line)
        if match:
            return float(match.group(1))
    return None


def test_health_and_readiness_answer_ok(http_server):
    assert get(http_server, "/healthz") == (200, "ok\n")
    assert get(http_server, "/readyz") == (200, "ready\n")
    assert get(http_server, "/nope")[0] == 404


def test_metrics_counters_move_with_commands(http_server):
    with http_server.client() as client:
        client.t.items.insert_one({"_id": 1})
        status, before = get(http_server, "/metrics")
        assert status == 200
        inserts_before = sample(before, "osmanthus_commands_total", 'command="insert"')
        assert inserts_before == 1
        for i in range(2, 7):
            client.t.items.insert_one({"_id": i})
        cursor = client.t.items.find(batch_size=2)
        next(cursor)
        _, after = get(http_server, "/metrics")
        assert sample(after, "osmanthus_commands_total", 'command="insert"') == inserts_before + 5
        assert sample(after, "osmanthus_command_duration_seconds_count", 'command="insert"') == inserts_before + 5
        assert sample(after, "osmanthus_connections_open") >= 1
        assert sample(after, "osmanthus_cursors_open") == 1
        assert sample(after, "osmanthus_engine_events_total", 'event="keysWritten"') >= 6
        cursor.close()


def test_metrics_count_aliases_by_their_own_name_and_unknown_commands_as_unknown(http_server):
    with http_server.client() as client:
        _, before = get(http_server, "/metrics")
        ismaster_before = sample(before, "osmanthus_commands_total", 'command="isMaster"') or 0
        unknown_before = sample(before, "osmanthus_commands_total", 'command="unknown"') or 0
        failures_before = sample(before, "osmanthus_command_failures_total", 'command="unknown"') or 0
        for _ in range(3):
            client.admin.command("isMaster")
        for _ in range(2):
            with pytest.raises(OperationFailure):
                client.admin.command("noSuchCommandAtAll")
        _, after = get(http_server, "/metrics")
        # At least: the driver's own monitor may handshake with isMaster meanwhile.
        assert sample(after, "osmanthus_commands_total", 'command="isMaster"') >= ismaster_before + 3
        assert sample(after, "osmanthus_commands_total", 'command="unknown"') == unknown_before + 2
        assert sample(after, "osmanthus_command_failures_total", 'command="unknown"') == failures_before + 2
        assert sample(after, "osmanthus_commands_total", 'command="noSuchCommandAtAll"') is None
