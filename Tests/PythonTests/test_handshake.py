"""Handshake and admin commands: what a driver sends before and besides CRUD."""
import time

import pytest
from bson import ObjectId
from pymongo import MongoClient
from pymongo.errors import OperationFailure


def test_ping(client):
    assert client.admin.command("ping")["ok"] == 1.0


def test_driver_sees_a_one_node_replica_set_primary(client, server):
    client.admin.command("ping")
    description = client.topology_description
    assert description.topology_type_name == "ReplicaSetWithPrimary"
    (server_description,) = description.server_descriptions().values()
    assert server_description.server_type_name == "RSPrimary"
    assert server_description.replica_set_name == "rs0"
    assert client.primary == (server.host, server.port)


def test_hello_reports_role_limits_and_topology(client, server):
    hello = client.admin.command("hello")
    me = f"{server.host}:{server.port}"
    assert hello["isWritablePrimary"] is True
    assert hello["hosts"] == [me] and hello["primary"] == me and hello["me"] == me
    assert hello["setName"] == "rs0"
    assert isinstance(hello["topologyVersion"]["processId"], ObjectId)
    assert hello["topologyVersion"]["counter"] == 0
    assert hello["maxWireVersion"] == 17 and hello["minWireVersion"] == 0
    assert hello["maxBsonObjectSize"] == 16 * 1024 * 1024
    assert hello["maxMessageSizeBytes"] == 48_000_000
    assert hello["maxWriteBatchSize"] == 100_000
    assert hello["logicalSessionTimeoutMinutes"] == 30
    assert hello["readOnly"] is False
    assert hello["connectionId"] >= 1
    assert "localTime" in hello


def test_legacy_is_master_names(client):
    for name in ("isMaster", "ismaster"):
        reply = client.admin.command(name)
        assert reply["ismaster"] is True
        assert "isWritablePrimary" not in reply


def test_direct_connection(server):
    with server.client("?directConnection=true") as direct:
        assert direct.admin.command("ping")["ok"] == 1.0
        assert direct.topology_description.topology_type_name == "Single"


def test_awaitable_hello_waits_only_when_topology_is_current(client):
    version = client.admin.command("hello")["topologyVersion"]
    start = time.monotonic()
    client.admin.command("hello", topologyVersion=version, maxAwaitTimeMS=600)
    assert time.monotonic() - start >= 0.5
    stale = {"processId": ObjectId(), "counter": 0}
    start = time.monotonic()
    client.admin.command("hello", topologyVersion=stale, maxAwaitTimeMS=5000)
    assert time.monotonic() - start < 2.5


def test_awaitable_hello_holds_no_command_thread(server):
    """More waiting hellos than command threads: a ping still answers at once."""
    import threading
    clients = [MongoClient(server.uri, directConnection=True, maxPoolSize=1) for _ in range(12)]
    try:
        version = clients[0].admin.command("hello")["topologyVersion"]
        threads = [threading.Thread(target=c.admin.command, args=("hello",),
                                    kwargs={"topologyVersion": version, "maxAwaitTimeMS": 1500}) for c in clients]
        for t in threads:
            t.start()
        time.sleep(0.2)
        with server.client() as other:
            start = time.monotonic()
            other.admin.command("ping")
            assert time.monotonic() - start < 1.0
        for t in threads:
            t.join()
    finally:
        for c in clients:
            c.close()


def test_build_info_and_server_info(client):
    info = client.server_info()
    assert info["version"].startswith("7.0")
    assert info["versionArray"][:2] == [7, 0]
    assert info["ok"] == 1.0
    assert client.admin.command("buildinfo")["version"] == info["version"]


def test_admin_commands_answer(client):
    admin = client.admin
    assert "you" in admin.command("whatsmyuri")
    assert admin.command("hostInfo")["system"]["numCores"] >= 1
    assert "argv" in admin.command("getCmdLineOpts")
    assert admin.command("getParameter", 1, featureCompatibilityVersion=1)["featureCompatibilityVersion"]["version"]
    status = admin.command("serverStatus")
    assert status["connections"]["current"] >= 1
    assert status["opcounters"]["command"] >= 1
    assert admin.command("connectionStatus")["authInfo"]["authenticatedUsers"] == []
    assert "ping" in admin.command("listCommands")["commands"]
    assert [op["command"].get("currentOp") for op in admin.command({"currentOp": 1, "$ownOps": True})["inprog"]] == [1]
    assert admin.command("endSessions", [])["ok"] == 1.0
    assert admin.command("killAllSessions", [])["ok"] == 1.0
    assert admin.command("replSetGetStatus")["members"][0]["stateStr"] == "PRIMARY"


def test_admin_only_command_elsewhere_is_unauthorized(client):
    with pytest.raises(OperationFailure) as failure:
        client.test.command("getCmdLineOpts")
    assert failure.value.code == 13


def test_unknown_command_is_command_not_found(client):
    with pytest.raises(OperationFailure) as failure:
        client.test.command("noSuchCommand")
    assert failure.value.code == 59
    assert failure.value.details["codeName"] == "CommandNotFound"
    assert "no such command: 'noSuchCommand'" in failure.value.details["errmsg"]


def test_server_keeps_serving_after_many_clients_come_and_go(server):
    for _ in range(20):
        with server.client(directConnection=True) as c:
            c.admin.command("ping")
    with server.client() as c:
        assert c.admin.command("serverStatus")["connections"]["totalCreated"] >= 20
