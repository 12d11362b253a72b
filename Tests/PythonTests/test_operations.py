"""currentOp lists the commands running now; killOp interrupts one."""
import threading
import time

import pytest
from pymongo.errors import OperationFailure


def wait_for_ops(client, spec, timeout=10):
    """Polls currentOp with `spec` until it lists something (or fails after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        ops = client.admin.command({"currentOp": 1, **spec})["inprog"]
        if ops:
            return ops
        assert time.monotonic() < deadline, f"no operation matched {spec}"
        time.sleep(0.02)


def test_current_op_lists_itself_with_its_connection(client):
    ops = client.admin.command("currentOp")["inprog"]
    mine = [op for op in ops if "currentOp" in op["command"]]
    assert len(mine) == 1
    op = mine[0]
    assert op["ns"] == "admin.$cmd"
    assert op["op"] == "command"
    assert op["active"] is True
    assert op["secs_running"] >= 0
    assert op["client"].startswith("127.0.0.1:")
    assert op["desc"] == f"conn{op['connectionId']}"
    assert isinstance(op["opid"], int)


def test_current_op_filters_its_entries(client):
    assert client.admin.command({"currentOp": 1, "ns": "nowhere.at_all"})["inprog"] == []


def test_kill_op_interrupts_a_waiting_change_stream_get_more(client, db):
    db.create_collection("ops")
    cursor = db.command("aggregate", "ops", pipeline=[{"$changeStream": {}}], cursor={})["cursor"]
    outcome = {}

    def wait():
        try:
            outcome["reply"] = db.command("getMore", cursor["id"], collection="ops", maxTimeMS=30000)
        except OperationFailure as error:
            outcome["error"] = error

    waiter = threading.Thread(target=wait)
    waiter.start()
    ops = wait_for_ops(client, {"command.getMore": cursor["id"]})
    assert len(ops) == 1
    op = ops[0]
    assert op["ns"] == f"{db.name}.ops"
    assert op["op"] == "getmore"
    killed_at = time.monotonic()
    assert client.admin.command("killOp", op=op["opid"])["ok"] == 1
    waiter.join(10)
    assert not waiter.is_alive()
    assert "error" in outcome, outcome
    assert outcome["error"].code == 11601
    assert time.monotonic() - killed_at < 5
    assert client.admin.command({"currentOp": 1, "opid": op["opid"]})["inprog"] == []


def test_kill_op_needs_a_numeric_op(client):
    with pytest.raises(OperationFailure) as missing:
        client.admin.command("killOp")
    assert missing.value.code == 9
    with pytest.raises(OperationFailure) as wrong:
        client.admin.command("killOp", op="x")
    assert wrong.value.code == 14
    # An operation that already ended: MongoDB answers the same.
    assert client.admin.command("killOp", op=2**31 - 1)["ok"] == 1
