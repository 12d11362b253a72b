"""Secondary indexes through pymongo: create/list/drop, unique errors, explain, hint, TTL."""
import datetime
import time

import pytest
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, OperationFailure


def winning_stages(explain):
    stages = []
    stage = explain["queryPlanner"]["winningPlan"]
    while stage:
        stages.append(stage["stage"])
        stage = stage.get("inputStage")
    return stages


def test_create_list_and_drop(db):
    db.c.insert_one({"_id": 1, "name": "x"})
    assert db.c.create_index("name") == "name_1"
    names = db.c.create_indexes([IndexModel([("a", ASCENDING), ("b", DESCENDING)], unique=True, sparse=True)])
    assert names == ["a_1_b_-1"]
    listed = list(db.c.list_indexes())
    assert [i["name"] for i in listed] == ["_id_", "name_1", "a_1_b_-1"]
    assert listed[2]["key"] == {"a": 1, "b": -1}
    assert listed[2]["unique"] is True and listed[2]["sparse"] is True
    info = db.c.index_information()
    assert info["name_1"]["key"] == [("name", 1)]
    db.c.drop_index("name_1")
    db.c.drop_index([("a", ASCENDING), ("b", DESCENDING)])
    assert [i["name"] for i in db.c.list_indexes()] == ["_id_"]
    with pytest.raises(OperationFailure) as e:
        db.c.drop_index("nope")
    assert e.value.code == 27


def test_conflicting_index_definitions(db):
    db.c.create_index("a", name="ix")
    with pytest.raises(OperationFailure) as e:
        db.c.create_index("b", name="ix")
    assert e.value.code == 86
    with pytest.raises(OperationFailure) as e:
        db.c.create_index("a", name="other")
    assert e.value.code == 85


def test_unique_duplicate_key_error_details(db):
    db.c.create_index("name", unique=True)
    db.c.insert_one({"_id": 1, "name": "x"})
    with pytest.raises(DuplicateKeyError) as e:
        db.c.insert_one({"_id": 2, "name": "x"})
    details = e.value.details
    assert details["code"] == 11000
    assert "index: name_1 dup key" in details["errmsg"]
    assert details["keyPattern"] == {"name": 1}
    assert details["keyValue"] == {"name": "x"}
    assert db.c.count_documents({}) == 1


def test_explain_shows_index_scan_and_hint(db):
    db.c.insert_many([{"_id": i, "a": i % 10, "b": i} for i in range(100)])
    db.c.create_index([("a", 1), ("b", 1)])
    explain = db.c.find({"a": 3, "b": {"$gt": 50}}).explain()
    assert winning_stages(explain) == ["FETCH", "IXSCAN"]
    assert explain["queryPlanner"]["winningPlan"]["inputStage"]["indexName"] == "a_1_b_1"
    assert explain["executionStats"]["nReturned"] == 5
    assert winning_stages(db.c.find({"b": 5}).explain()) == ["COLLSCAN"]
    hinted = db.c.find({"b": 5}).hint([("a", 1), ("b", 1)])
    assert [d["_id"] for d in hinted] == [5]
    assert winning_stages(db.c.find({"b": 5}).hint("a_1_b_1").explain()) == ["FETCH", "IXSCAN"]
    sorted_docs = list(db.c.find({"a": 4}).sort("b", -1))
    assert [d["b"] for d in sorted_docs] == sorted((i for i in range(100) if i % 10 == 4), reverse=True)
    explain = db.command("explain", {"count": "c", "query": {"a": 2}})
    assert explain["executionStats"]["nReturned"] == 10


def test_ttl_index_removes_expired_documents(fresh_server):
    fresh_server.extra_args = ["--ttl-monitor-seconds", "0.1"]
    fresh_server.start()
    client = fresh_server.client()
    try:
        c = client.t.ttl
        c.create_index("at", expireAfterSeconds=30)
        now = datetime.datetime.now(datetime.timezone.utc)
        c.insert_many([
            {"_id": 1, "at": now - datetime.timedelta(hours=1)},
            {"_id": 2, "at": now + datetime.timedelta(hours=1)},
        ])
        deadline = time.time() + 10
        while c.count_documents({"_id": 1}) and time.time() < deadline:
            time.sleep(0.05)
        assert [d["_id"] for d in c.find()] == [2]
        assert [i.get("expireAfterSeconds") for i in c.list_indexes()] == [None, 30]
    finally:
        client.close()
        fresh_server.stop()
