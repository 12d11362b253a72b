"""Logical sessions and retryable writes: a write with (lsid, txnNumber) is applied once."""
import uuid

import bson
import pytest
from bson.binary import Binary, UUID_SUBTYPE
from pymongo.errors import OperationFailure

from test_wire import connect, op_msg, read_message


def retried_commands(client):
    return client.admin.command("serverStatus")["transactions"]["retriedCommandsCount"]


def fail_once_after_applying(client, command):
    """The write runs, then the reply says it may not have (a retryable write concern error)."""
    client.admin.command({
        "configureFailPoint": "failCommand", "mode": {"times": 1},
        "data": {"failCommands": [command], "errorLabels": ["RetryableWriteError"],
                 "writeConcernError": {"code": 91, "errmsg": "Replication is being shut down"}}})


def fail_point_off(client):
    client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def test_a_retried_increment_is_applied_exactly_once(client, db):
    db.counters.insert_one({"_id": 1, "n": 0})
    before = retried_commands(client)
    fail_once_after_applying(client, "update")
    try:
        result = db.counters.update_one({"_id": 1}, {"$inc": {"n": 1}})
    finally:
        fail_point_off(client)
    assert result.modified_count == 1
    # Run twice, the $inc would have left 2.
    assert db.counters.find_one({"_id": 1})["n"] == 1
    assert retried_commands(client) == before + 1


def test_a_retried_insert_is_not_a_duplicate_key(client, db):
    fail_once_after_applying(client, "insert")
    try:
        db.items.insert_one({"_id": "once"})
    finally:
        fail_point_off(client)
    assert db.items.count_documents({}) == 1


def test_a_retried_find_and_modify_returns_the_first_result(client, db):
    db.counters.insert_one({"_id": 1, "n": 5})
    fail_once_after_applying(client, "findAndModify")
    try:
        before = db.counters.find_one_and_update({"_id": 1}, {"$inc": {"n": 1}})
    finally:
        fail_point_off(client)
    assert before["n"] == 5
    assert db.counters.find_one({"_id": 1})["n"] == 6


def test_a_write_whose_connection_closed_is_retried(client, db):
    client.admin.command({"configureFailPoint": "failCommand", "mode": {"times": 1},
                          "data": {"failCommands": ["insert"], "closeConnection": True}})
    try:
        db.items.insert_one({"_id": "after-reconnect"})
    finally:
        fail_point_off(client)
    assert list(db.items.find()) == [{"_id": "after-reconnect"}]


def raw_command(sock, request_id, command):
    sock.sendall(op_msg(request_id, command))
    _, response_to, op_code, body = read_message(sock)
    assert response_to == request_id and op_code == 2013 and body[4] == 0
    return bson.decode(body[5:])


def test_the_same_lsid_and_txn_number_gets_the_recorded_reply(server, client, db):
    db.counters.insert_one({"_id": 1, "n": 0})
    lsid = {"id": Binary(uuid.uuid4().bytes, UUID_SUBTYPE)}
    update = {"update": "counters", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}],
              "lsid": lsid, "txnNumber": bson.int64.Int64(7), "$db": db.name}
    sock = connect(server)
    try:
        first = raw_command(sock, 1, update)
        second = raw_command(sock, 2, update)
        assert first["ok"] == 1 and first["nModified"] == 1
        assert second == first
        assert db.counters.find_one({"_id": 1})["n"] == 1
        older = raw_command(sock, 3, {**update, "txnNumber": bson.int64.Int64(6)})
        assert older["ok"] == 0 and older["code"] == 225
        newer = raw_command(sock, 4, {**update, "txnNumber": bson.int64.Int64(8)})
        assert newer["ok"] == 1 and newer["nModified"] == 1
        assert db.counters.find_one({"_id": 1})["n"] == 2
    finally:
        sock.close()


def test_end_sessions_closes_the_sessions_cursors(client, db):
    db.items.insert_many([{"_id": i} for i in range(10)])
    with client.start_session() as session:
        cursor = db.items.find(session=session, batch_size=2)
        assert next(cursor)["_id"] == 0
        client.admin.command("endSessions", [session.session_id])
        with pytest.raises(OperationFailure) as failure:
            list(cursor)
        assert failure.value.code == 43


def test_kill_all_sessions_aborts_open_transactions(client, db):
    db.create_collection("items")
    with client.start_session() as session:
        session.start_transaction()
        db.items.insert_one({"_id": 1}, session=session)
        client.admin.command("killAllSessions", [])
        with pytest.raises(OperationFailure) as failure:
            session.commit_transaction()
        assert failure.value.code == 251
    assert db.items.count_documents({}) == 0


def test_sessions_are_counted_in_server_status(client, db):
    with client.start_session() as session:
        db.items.insert_one({"_id": 1}, session=session)
        status = client.admin.command("serverStatus")
        assert status["logicalSessionRecordCache"]["activeSessionsCount"] >= 1


def test_an_ended_session_is_made_again_for_the_next_inline_find_on_the_same_connection(server, client, db):
    """A connection reuses the session its last inline command used (same lsid bytes) only
    while the session table holds it: after endSessions the next find by _id with that lsid
    creates the session again, as a table lookup does."""
    db.items.insert_one({"_id": 1})
    lsid = {"id": Binary(uuid.uuid4().bytes, UUID_SUBTYPE)}
    find = {"find": "items", "filter": {"_id": 1}, "limit": 1, "singleBatch": True, "lsid": lsid, "$db": db.name}
    with connect(server) as sock:
        def run(request_id, command):
            sock.sendall(op_msg(request_id, command))
            _, response_to, _, payload = read_message(sock)
            assert response_to == request_id
            reply = bson.decode(payload[5:])
            assert reply["ok"] == 1.0, reply
            return reply

        def sessions(request_id):  # no lsid: counting creates no session
            status = run(request_id, {"serverStatus": 1, "$db": "admin"})
            return status["logicalSessionRecordCache"]["activeSessionsCount"]

        before = sessions(1)
        assert run(2, find)["cursor"]["firstBatch"] == [{"_id": 1}]
        assert run(3, find)["cursor"]["firstBatch"] == [{"_id": 1}]
        assert sessions(4) == before + 1
        run(5, {"endSessions": [lsid], "$db": "admin"})
        assert sessions(6) == before
        assert run(7, find)["cursor"]["firstBatch"] == [{"_id": 1}]
        assert sessions(8) == before + 1
