"""Starting and stopping the server process."""
import signal

from pymongo import MongoClient


def test_sigterm_stops_cleanly_and_data_survives_a_restart(fresh_server):
    fresh_server.start()
    with fresh_server.client() as client:
        client.keep.things.insert_many([{"_id": i} for i in range(10)])
    assert fresh_server.stop() == 0
    fresh_server.start()
    with fresh_server.client() as client:
        assert client.keep.things.count_documents({}) == 10
    assert fresh_server.stop() == 0


def test_sigint_stops_cleanly_with_clients_connected(fresh_server):
    fresh_server.start()
    # A short selection timeout: closing the client after the server is gone tries endSessions.
    client = fresh_server.client(serverSelectionTimeoutMS=500)
    client.admin.command("ping")
    fresh_server.process.send_signal(signal.SIGINT)
    assert fresh_server.process.wait(30) == 0
    client.close()


def test_idle_cursors_are_closed_after_the_timeout(fresh_server):
    import time
    from pymongo.errors import OperationFailure
    import pytest
    fresh_server.extra_args = ["--cursor-timeout-ms", "300"]
    fresh_server.start()
    with fresh_server.client() as client:
        client.t.c.insert_many([{"_id": i} for i in range(5)])
        reply = client.t.command("find", "c", batchSize=2)
        cursor_id = reply["cursor"]["id"]
        assert cursor_id != 0
        deadline = time.monotonic() + 15
        while client.admin.command("serverStatus")["metrics"]["cursor"]["open"]["total"] > 0:
            assert time.monotonic() < deadline, "the idle cursor was never closed"
            time.sleep(0.1)
        with pytest.raises(OperationFailure) as failure:
            client.t.command("getMore", cursor_id, collection="c")
        assert failure.value.code == 43
    assert fresh_server.stop() == 0
