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
    client = fresh_server.client()
    client.admin.command("ping")
    fresh_server.process.send_signal(signal.SIGINT)
    assert fresh_server.process.wait(30) == 0
    client.close()
