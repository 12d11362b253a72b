"""Change streams through pymongo: collection.watch(), db.watch(), client.watch(), resume tokens,
full documents and pre-images, awaitData getMores, and ChangeStreamHistoryLost (286)."""
import socket
import struct
import threading
import time

import bson
import pytest
from pymongo.errors import OperationFailure


def take(stream, n, timeout=10):
    """The next n events (each getMore waits for commits server-side)."""
    events = []
    deadline = time.monotonic() + timeout
    while len(events) < n and time.monotonic() < deadline:
        event = stream.try_next()
        if event is not None:
            events.append(event)
    assert len(events) == n, f"got {len(events)} of {n} events: {events}"
    return events


def test_collection_watch_sees_each_write(db):
    coll = db.items
    with coll.watch(max_await_time_ms=200) as stream:
        coll.insert_one({"_id": 1, "a": {"b": 1}, "c": 1})
        coll.update_one({"_id": 1}, {"$set": {"a.b": 2}, "$unset": {"c": ""}})
        coll.replace_one({"_id": 1}, {"_id": 1, "z": True})
        coll.delete_one({"_id": 1})
        events = take(stream, 4)
    assert [e["operationType"] for e in events] == ["insert", "update", "replace", "delete"]
    assert events[0]["fullDocument"] == {"_id": 1, "a": {"b": 1}, "c": 1}
    assert events[0]["ns"] == {"db": db.name, "coll": "items"}
    assert events[0]["documentKey"] == {"_id": 1}
    assert events[1]["updateDescription"] == {
        "updatedFields": {"a.b": 2}, "removedFields": ["c"], "truncatedArrays": []}
    assert "fullDocument" not in events[1]
    assert events[2]["fullDocument"] == {"_id": 1, "z": True}
    assert events[3]["documentKey"] == {"_id": 1}
    times = [e["clusterTime"] for e in events]
    assert times == sorted(times)


def test_db_and_client_watch_see_their_scope(client, db):
    other = client[db.name + "_other"]
    try:
        with db.watch(max_await_time_ms=200) as db_stream, client.watch(max_await_time_ms=200) as all_stream:
            db.a.insert_one({"_id": "a"})
            other.b.insert_one({"_id": "b"})
            db.c.insert_one({"_id": "c"})
            seen = take(db_stream, 2)
            assert [e["documentKey"]["_id"] for e in seen] == ["a", "c"]
            everything = take(all_stream, 3)
            assert [e["documentKey"]["_id"] for e in everything] == ["a", "b", "c"]
            assert everything[1]["ns"] == {"db": other.name, "coll": "b"}
    finally:
        client.drop_database(other.name)


def test_resume_after_delivers_the_rest_exactly_once(db):
    coll = db.items
    with coll.watch(max_await_time_ms=200) as stream:
        coll.insert_many([{"_id": i} for i in range(3)])
        first = take(stream, 1)[0]
    coll.insert_one({"_id": 3})
    with coll.watch(resume_after=first["_id"], max_await_time_ms=200) as resumed:
        rest = take(resumed, 3)
        assert resumed.try_next() is None
    assert [e["documentKey"]["_id"] for e in rest] == [1, 2, 3]


def test_drop_invalidates_and_start_after_begins_again(db):
    coll = db.items
    coll.insert_one({"_id": 0})
    with coll.watch(max_await_time_ms=200) as stream:
        coll.drop()
        events = take(stream, 2)
        assert [e["operationType"] for e in events] == ["drop", "invalidate"]
        assert not stream.alive
    invalidate = events[1]["_id"]
    with pytest.raises(OperationFailure) as failure:
        with coll.watch(resume_after=invalidate) as s:
            s.try_next()
    assert failure.value.code == 260
    coll.insert_one({"_id": 1})
    with coll.watch(start_after=invalidate, max_await_time_ms=200) as again:
        event = take(again, 1)[0]
    assert event["operationType"] == "insert" and event["documentKey"] == {"_id": 1}


def test_full_document_update_lookup(db):
    coll = db.items
    coll.insert_one({"_id": 1, "n": 0})
    with coll.watch(full_document="updateLookup", max_await_time_ms=200) as stream:
        coll.update_one({"_id": 1}, {"$inc": {"n": 5}})
        event = take(stream, 1)[0]
    assert event["fullDocument"] == {"_id": 1, "n": 5}


def test_pre_images_with_create_and_coll_mod(db):
    db.create_collection("imaged", changeStreamPreAndPostImages={"enabled": True})
    db.plain.insert_one({"_id": 1, "v": "old"})
    db.command("collMod", "plain", changeStreamPreAndPostImages={"enabled": True})
    db.imaged.insert_one({"_id": 1, "v": "old"})
    with db.watch(full_document="required", full_document_before_change="required",
                  max_await_time_ms=200) as stream:
        db.imaged.update_one({"_id": 1}, {"$set": {"v": "new"}})
        db.plain.delete_one({"_id": 1})
        update, delete = take(stream, 2)
    assert update["fullDocumentBeforeChange"] == {"_id": 1, "v": "old"}
    assert update["fullDocument"] == {"_id": 1, "v": "new"}
    assert delete["fullDocumentBeforeChange"] == {"_id": 1, "v": "old"}
    infos = {i["name"]: i["options"] for i in db.list_collections()}
    assert infos["imaged"]["changeStreamPreAndPostImages"] == {"enabled": True}


def test_match_pipeline_filters_events(db):
    coll = db.items
    with coll.watch([{"$match": {"operationType": "delete"}}], max_await_time_ms=200) as stream:
        coll.insert_one({"_id": 1})
        coll.delete_one({"_id": 1})
        event = take(stream, 1)[0]
    assert event["operationType"] == "delete"


def test_get_more_waits_and_is_woken_by_a_commit(db):
    coll = db.items
    with coll.watch(max_await_time_ms=5000) as stream:
        started = time.monotonic()
        timer = threading.Timer(0.3, lambda: coll.insert_one({"_id": "late"}))
        timer.start()
        event = stream.try_next()
        elapsed = time.monotonic() - started
        timer.join()
    assert event is not None and event["documentKey"] == {"_id": "late"}
    # Woken by the insert, well before the 5 s await time ran out.
    assert elapsed < 4


def test_resume_past_retention_fails_with_286(db):
    coll = db.items
    with coll.watch(max_await_time_ms=200) as stream:
        coll.insert_many([{"_id": i, "pad": "x" * 100} for i in range(20)])
        events = take(stream, 20)
    reply = db.command("changeLogRetention", 1, maxBytes=1000, trim=True)
    assert reply["maxBytes"] == 1000 and reply["trimmed"] > 0
    with pytest.raises(OperationFailure) as failure:
        with coll.watch(resume_after=events[0]["_id"]) as s:
            s.try_next()
    assert failure.value.code == 286
    with coll.watch(resume_after=events[18]["_id"], max_await_time_ms=200) as recent:
        assert take(recent, 1)[0]["documentKey"] == {"_id": 19}


def test_start_at_operation_time_starts_with_that_event(db):
    coll = db.items
    with coll.watch(max_await_time_ms=200) as stream:
        coll.insert_many([{"_id": i} for i in range(4)])
        events = take(stream, 4)
    with coll.watch(start_at_operation_time=events[2]["clusterTime"], max_await_time_ms=200) as later:
        rest = take(later, 2)
    assert [e["documentKey"]["_id"] for e in rest] == [2, 3]


def test_waiting_streams_do_not_hold_every_command_thread(db):
    coll = db.items
    streams = [coll.watch(max_await_time_ms=3000) for _ in range(6)]
    try:
        threads = [threading.Thread(target=s.try_next) for s in streams]
        for t in threads:
            t.start()
        time.sleep(0.2)  # let the getMores reach the server; the assertion does not depend on it
        started = time.monotonic()
        coll.insert_one({"_id": "through"})
        elapsed = time.monotonic() - started
        for t in threads:
            t.join()
    finally:
        for s in streams:
            s.close()
    # Six getMores awaiting 3 s each would hold all four command threads without the cap.
    assert elapsed < 1.5


def test_ending_a_session_closes_its_change_streams(client, db):
    """endSessions closes the change-stream cursors opened in that session (getMore: 43)."""
    with client.start_session() as session:
        opened = db.command(
            "aggregate", "ended", pipeline=[{"$changeStream": {}}], cursor={}, session=session)
        cursor_id = opened["cursor"]["id"]
        assert cursor_id != 0
        more = db.command("getMore", cursor_id, collection="ended", maxTimeMS=10, session=session)
        assert more["cursor"]["id"] == cursor_id
        client.admin.command("endSessions", [session.session_id])
        with pytest.raises(OperationFailure) as failure:
            db.command("getMore", cursor_id, collection="ended", maxTimeMS=10)
        assert failure.value.code == 43


def test_show_expanded_events_reports_create_and_index_changes(db):
    with db.watch(max_await_time_ms=200, show_expanded_events=True) as expanded, \
            db.watch(max_await_time_ms=200) as plain:
        db.create_collection("made", changeStreamPreAndPostImages={"enabled": True})
        db.made.create_index([("k", 1)], name="k_1", unique=True)
        db.made.insert_one({"_id": 1, "k": 1})
        db.made.drop_index("k_1")
        events = take(expanded, 4)
        only = take(plain, 1)
    assert [e["operationType"] for e in events] == ["create", "createIndexes", "insert", "dropIndexes"]
    assert events[0]["ns"] == {"db": db.name, "coll": "made"}
    assert events[0]["operationDescription"] == {
        "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        "changeStreamPreAndPostImages": {"enabled": True}}
    index = {"v": 2, "key": {"k": 1}, "name": "k_1", "unique": True}
    assert events[1]["operationDescription"] == {"indexes": [index]}
    assert events[3]["operationDescription"] == {"indexes": [index]}
    assert [e["operationType"] for e in only] == ["insert"]


def test_show_expanded_events_must_be_a_boolean(db):
    with pytest.raises(OperationFailure) as failure:
        db.command("aggregate", 1, pipeline=[{"$changeStream": {"showExpandedEvents": 1}}], cursor={})
    assert failure.value.code == 14


def waiting_get_mores(client, cursor_ids):
    """The getMores on these cursors that currentOp lists now."""
    ops = client.admin.command("currentOp")["inprog"]
    return [op for op in ops if op["command"].get("getMore") in cursor_ids]


def wait_until_parked(client, cursor_ids, timeout=10):
    """Polls currentOp until a getMore on each of `cursor_ids` is listed."""
    deadline = time.monotonic() + timeout
    while len(waiting_get_mores(client, cursor_ids)) < len(cursor_ids):
        assert time.monotonic() < deadline, "the getMores never all waited"
        time.sleep(0.02)


def open_stream(db, name):
    cursor = db.command("aggregate", name, pipeline=[{"$changeStream": {}}], cursor={})["cursor"]
    assert cursor["id"] != 0
    return cursor["id"]


def test_more_waiting_get_mores_than_command_threads_are_all_woken_by_one_write(client, db):
    """Parked getMores hold no command thread: ten of them wait at once on a server with four
    command threads (currentOp, itself run on that pool, still answers), and one insert wakes
    them all with its event, long before their 20 s maxTimeMS."""
    db.create_collection("items")
    ids = [open_stream(db, "items") for _ in range(10)]
    replies = {}

    def wait(cursor_id):
        replies[cursor_id] = db.command("getMore", cursor_id, collection="items", maxTimeMS=20000)

    threads = [threading.Thread(target=wait, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    try:
        wait_until_parked(client, ids)
        written = time.monotonic()
        db.items.insert_one({"_id": "wake"})
        for t in threads:
            t.join(15)
        elapsed = time.monotonic() - written
    finally:
        db.command("killCursors", "items", cursors=ids)
    assert len(replies) == 10
    for cursor_id, reply in replies.items():
        batch = reply["cursor"]["nextBatch"]
        assert [e["documentKey"] for e in batch] == [{"_id": "wake"}], reply
        assert reply["cursor"]["id"] == cursor_id
    assert elapsed < 5


def test_kill_cursors_answers_a_parked_get_more_at_once(client, db):
    db.create_collection("items")
    cursor_id = open_stream(db, "items")
    outcome = {}

    def wait():
        try:
            outcome["reply"] = db.command("getMore", cursor_id, collection="items", maxTimeMS=20000)
        except OperationFailure as error:
            outcome["error"] = error

    waiter = threading.Thread(target=wait)
    waiter.start()
    wait_until_parked(client, [cursor_id])
    killed_at = time.monotonic()
    reply = db.command("killCursors", "items", cursors=[cursor_id])
    waiter.join(10)
    assert not waiter.is_alive()
    assert reply["cursorsKilled"] == [cursor_id]
    assert "error" in outcome, outcome
    assert outcome["error"].code == 237  # CursorKilled
    assert time.monotonic() - killed_at < 5
    assert waiting_get_mores(client, [cursor_id]) == []
    with pytest.raises(OperationFailure) as failure:
        db.command("getMore", cursor_id, collection="items", maxTimeMS=10)
    assert failure.value.code == 43


def op_msg(document, request_id=1):
    """An OP_MSG with one body section, as a client sends it."""
    body = bson.encode(document)
    payload = struct.pack("<I", 0) + b"\x00" + body
    return struct.pack("<iiii", 16 + len(payload), request_id, 0, 2013) + payload


def test_a_client_that_hangs_up_while_its_get_more_waits_closes_the_stream(server, client, db):
    db.create_collection("items")
    cursor_id = open_stream(db, "items")
    sock = socket.create_connection((server.host, server.port))
    try:
        sock.sendall(op_msg({"getMore": bson.Int64(cursor_id), "collection": "items", "maxTimeMS": 20000,
                             "$db": db.name}))
        wait_until_parked(client, [cursor_id])
    finally:
        sock.close()
    # The wait ends, its operation leaves the table and the stream is closed (43), not left
    # checked out (292) until the 20 s run out.
    deadline = time.monotonic() + 5
    while True:
        try:
            db.command("getMore", cursor_id, collection="items", maxTimeMS=10)
            code = None
        except OperationFailure as error:
            code = error.code
        if code == 43:
            break
        assert code == 292 and time.monotonic() < deadline, f"getMore after hang-up: {code}"
        time.sleep(0.05)
    assert waiting_get_mores(client, [cursor_id]) == []
    assert db.command("ping")["ok"] == 1


def collection_uuid(db, name):
    """The UUID listCollections reports in info.uuid."""
    infos = {c["name"]: c for c in db.list_collections()}
    return infos[name]["info"]["uuid"]


def test_expanded_events_carry_the_collection_uuid(db):
    with db.watch(max_await_time_ms=200, show_expanded_events=True) as expanded, \
            db.watch(max_await_time_ms=200) as plain:
        db.uuids.insert_one({"_id": 1})
        db.uuids.update_one({"_id": 1}, {"$set": {"x": 1}})
        db.uuids.rename("renamed")
        db.uuids.insert_one({"_id": 2})
        db.drop_collection("renamed")
        events = take(expanded, 7)
        ordinary = take(plain, 5)
    first = collection_uuid(db, "uuids")  # the second collection of that name
    assert [e["operationType"] for e in events] == [
        "create", "insert", "update", "rename", "create", "insert", "drop"]
    for e in events:
        assert e["collectionUUID"].subtype == 4 and len(e["collectionUUID"]) == 16
    old = events[0]["collectionUUID"]
    assert [e["collectionUUID"] for e in events] == [old, old, old, old, first, first, old]
    assert old != first
    assert list(events[1].keys())[:5] == ["_id", "operationType", "clusterTime", "wallTime", "collectionUUID"]
    assert all("collectionUUID" not in e for e in ordinary)


def test_modify_event_reports_the_state_before_the_change(db):
    db.create_collection("modded")
    with db.watch(max_await_time_ms=200, show_expanded_events=True) as stream:
        db.command("collMod", "modded", changeStreamPreAndPostImages={"enabled": True})
        db.command("collMod", "modded", changeStreamPreAndPostImages={"enabled": False})
        events = take(stream, 2)
    uuid = collection_uuid(db, "modded")
    assert [e["operationType"] for e in events] == ["modify", "modify"]
    assert events[0]["collectionUUID"] == uuid
    assert events[0]["operationDescription"] == {"changeStreamPreAndPostImages": {"enabled": True}}
    assert events[0]["stateBeforeChange"] == {"collectionOptions": {"uuid": uuid}}
    assert events[1]["stateBeforeChange"] == {
        "collectionOptions": {"uuid": uuid, "changeStreamPreAndPostImages": {"enabled": True}}}
