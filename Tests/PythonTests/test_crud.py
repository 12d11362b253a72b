"""CRUD through pymongo: inserts, finds with every option, cursors, updates, deletes."""
import pytest
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure


def seed(collection, n=7):
    collection.insert_many([{"_id": i, "n": i, "group": i % 2, "name": f"doc{i}"} for i in range(n)])


def test_insert_one_and_find_one(db):
    result = db.things.insert_one({"name": "osmanthus", "petals": 4})
    assert isinstance(result.inserted_id, ObjectId)
    found = db.things.find_one({"_id": result.inserted_id})
    assert found == {"_id": result.inserted_id, "name": "osmanthus", "petals": 4}


def test_insert_many_and_find_all(db):
    result = db.things.insert_many([{"_id": i, "v": i * 10} for i in range(5)])
    assert result.inserted_ids == list(range(5))
    assert sorted(d["v"] for d in db.things.find()) == [0, 10, 20, 30, 40]


def test_find_with_filter_sort_skip_limit_projection(db):
    seed(db.items)
    docs = list(db.items.find({"group": 1}, {"name": 1, "_id": 0}).sort("n", -1).skip(1).limit(2))
    assert docs == [{"name": "doc3"}, {"name": "doc1"}]
    docs = list(db.items.find({}, {"n": 1}).sort("n", 1).skip(2).limit(3))
    assert docs == [{"_id": 2, "n": 2}, {"_id": 3, "n": 3}, {"_id": 4, "n": 4}]


def test_cursor_across_several_batches(db, client):
    seed(db.items, 7)
    cursor = db.items.find().sort("n", 1).batch_size(2)
    seen = [d["n"] for d in cursor]
    assert seen == list(range(7))
    assert cursor.alive is False
    assert client.admin.command("serverStatus")["metrics"]["cursor"]["open"]["total"] == 0


def test_closing_a_cursor_early_kills_it(db, client):
    seed(db.items, 7)
    cursor = db.items.find().batch_size(2)
    next(cursor)
    assert cursor.cursor_id != 0
    cursor_id = cursor.cursor_id
    cursor.close()
    with pytest.raises(OperationFailure) as failure:
        db.command("getMore", cursor_id, collection="items")
    assert failure.value.code == 43


def test_get_more_on_unknown_cursor_is_cursor_not_found(db):
    with pytest.raises(OperationFailure) as failure:
        db.command("getMore", 12345, collection="items")
    assert failure.value.code in (43, 14)


def test_limit_smaller_than_batch_closes_cursor(db):
    seed(db.items, 7)
    reply = db.command("find", "items", batchSize=10, limit=3)
    assert len(reply["cursor"]["firstBatch"]) == 3
    assert reply["cursor"]["id"] == 0
    reply = db.command("find", "items", batchSize=2, singleBatch=True)
    assert len(reply["cursor"]["firstBatch"]) == 2 and reply["cursor"]["id"] == 0


def test_update_one_and_update_many_with_upsert(db):
    seed(db.items)
    result = db.items.update_one({"_id": 3}, {"$set": {"name": "three"}})
    assert (result.matched_count, result.modified_count, result.upserted_id) == (1, 1, None)
    assert db.items.find_one({"_id": 3})["name"] == "three"

    result = db.items.update_many({"group": 0}, {"$set": {"even": True}})
    assert result.matched_count == 4 and result.modified_count == 4
    assert db.items.count_documents({"even": True}) == 4

    result = db.items.update_one({"_id": 100}, {"$set": {"name": "new"}}, upsert=True)
    assert result.upserted_id == 100 and result.matched_count == 0
    assert db.items.find_one({"_id": 100})["name"] == "new"

    result = db.items.update_many({"name": "nobody"}, {"$set": {"x": 1}}, upsert=True)
    assert result.upserted_id is not None
    assert db.items.find_one({"_id": result.upserted_id})["x"] == 1


def test_replace_one(db):
    seed(db.items, 3)
    result = db.items.replace_one({"_id": 1}, {"replaced": True})
    assert result.matched_count == 1 and result.modified_count == 1
    assert db.items.find_one({"_id": 1}) == {"_id": 1, "replaced": True}
    result = db.items.replace_one({"_id": 9}, {"fresh": 1}, upsert=True)
    assert result.upserted_id == 9


def test_multi_update_with_replacement_document_is_rejected(db):
    seed(db.items, 2)
    reply = db.command("update", "items", updates=[{"q": {}, "u": {"plain": 1}, "multi": True}])
    assert reply["n"] == 0
    assert [(e["index"], e["code"]) for e in reply["writeErrors"]] == [(0, 9)]


def test_delete_one_and_delete_many(db):
    seed(db.items, 7)
    assert db.items.delete_one({"group": 1}).deleted_count == 1
    assert db.items.count_documents({}) == 6
    assert db.items.delete_many({"group": 0}).deleted_count == 4
    assert db.items.count_documents({}) == 2
    assert db.items.delete_many({}).deleted_count == 2
    assert db.items.find_one() is None


def test_find_one_and_update_returns_before_or_after(db):
    seed(db.items, 3)
    before = db.items.find_one_and_update({"_id": 2}, {"$set": {"name": "two"}})
    assert before["name"] == "doc2"
    after = db.items.find_one_and_update({"_id": 2}, {"$set": {"name": "TWO"}}, return_document=ReturnDocument.AFTER)
    assert after["name"] == "TWO"
    upserted = db.items.find_one_and_update(
        {"_id": 50}, {"$set": {"name": "fifty"}}, upsert=True, return_document=ReturnDocument.AFTER)
    assert upserted == {"_id": 50, "name": "fifty"}
    assert db.items.find_one_and_update({"_id": 999}, {"$set": {"x": 1}}) is None


def test_find_one_and_replace_and_delete(db):
    seed(db.items, 3)
    assert db.items.find_one_and_replace({"_id": 0}, {"fresh": 1})["name"] == "doc0"
    assert db.items.find_one({"_id": 0}) == {"_id": 0, "fresh": 1}
    deleted = db.items.find_one_and_delete({"_id": 1})
    assert deleted["_id"] == 1
    assert db.items.find_one({"_id": 1}) is None


def test_count_documents_and_estimated_count(db):
    seed(db.items, 7)
    assert db.items.count_documents({}) == 7
    assert db.items.count_documents({"group": 1}) == 3
    assert db.items.count_documents({}, skip=2, limit=3) == 3
    assert db.items.count_documents({"group": 5}) == 0
    assert db.items.estimated_document_count() == 7
    assert db.missing.count_documents({}) == 0


def test_aggregate_count_shapes(db):
    seed(db.items, 7)
    assert list(db.items.aggregate([{"$match": {"group": 0}}, {"$count": "total"}])) == [{"total": 4}]
    docs = list(db.items.aggregate([{"$match": {"group": 1}}]))
    assert sorted(d["_id"] for d in docs) == [1, 3, 5]
    assert list(db.items.aggregate([{"$unwind": "$tags"}])) == []  # no document has tags


def test_aggregate_match_after_sort_and_repeated_match(db):
    seed(db.items, 7)
    docs = list(db.items.aggregate([{"$sort": {"n": -1}}, {"$match": {"group": 1}}], batchSize=2))
    assert [d["_id"] for d in docs] == [5, 3, 1]
    docs = list(db.items.aggregate([{"$match": {"group": 0}}, {"$sort": {"n": 1}}, {"$match": {"n": {"$gt": 2}}}]))
    assert [d["_id"] for d in docs] == [4, 6]
    docs = list(db.items.aggregate([{"$limit": 2}, {"$match": {"group": 0}}]))
    assert [d["_id"] for d in docs] == [0]


def test_distinct(db):
    seed(db.items, 7)
    assert sorted(db.items.distinct("group")) == [0, 1]
    assert sorted(db.items.distinct("n", {"group": 1})) == [1, 3, 5]


def test_duplicate_id_is_duplicate_key_error(db):
    db.items.insert_one({"_id": "same"})
    with pytest.raises(DuplicateKeyError) as failure:
        db.items.insert_one({"_id": "same"})
    assert failure.value.code == 11000
    assert failure.value.details.get("keyValue") == {"_id": "same"}


def test_ordered_and_unordered_insert_many_report_write_errors(db):
    db.items.insert_one({"_id": 2})
    with pytest.raises(BulkWriteError) as failure:
        db.items.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3}])
    details = failure.value.details
    assert details["nInserted"] == 1
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(1, 11000)]
    assert db.items.count_documents({}) == 2

    with pytest.raises(BulkWriteError) as failure:
        db.items.insert_many([{"_id": 2}, {"_id": 4}, {"_id": 1}], ordered=False)
    details = failure.value.details
    assert details["nInserted"] == 1
    assert sorted(e["index"] for e in details["writeErrors"]) == [0, 2]
    assert sorted(d["_id"] for d in db.items.find()) == [1, 2, 4]


def test_four_megabyte_document_round_trips(db):
    blob = "x" * (4 * 1024 * 1024)
    db.big.insert_one({"_id": 1, "blob": blob})
    assert db.big.find_one({"_id": 1})["blob"] == blob


def test_batches_stay_under_the_reply_limit(db):
    blob = "y" * (3 * 1024 * 1024)
    db.big.insert_many([{"_id": i, "blob": blob} for i in range(8)])
    assert [d["_id"] for d in db.big.find().sort("_id", 1)] == list(range(8))


def test_get_more_from_another_connection(db, server):
    seed(db.items, 7)
    first = db.command("find", "items", batchSize=3)
    cursor_id = first["cursor"]["id"]
    assert cursor_id != 0
    with server.client(directConnection=True) as other:
        more = other[db.name].command("getMore", cursor_id, collection="items", batchSize=10)
    assert len(first["cursor"]["firstBatch"]) + len(more["cursor"]["nextBatch"]) == 7
    assert more["cursor"]["id"] == 0


def test_unacknowledged_write_is_applied(db):
    import time
    from pymongo import WriteConcern
    db.with_options(write_concern=WriteConcern(w=0)).items.insert_one({"_id": "w0"})
    deadline = time.monotonic() + 10
    while db.items.find_one({"_id": "w0"}) is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
