"""Read-only views: create with viewOn/pipeline, reads through the pipeline, writes refused."""
import pytest
from pymongo.errors import OperationFailure


def fails(code, action):
    with pytest.raises(OperationFailure) as failure:
        action()
    assert failure.value.code == code, failure.value.details
    return failure.value.details["errmsg"]


@pytest.fixture
def shop(db):
    db.orders.insert_many([{"_id": i, "city": ["Oslo", "Lima", "Pune"][i % 3], "total": i * 10,
                            "tags": ["a", "b"] if i % 2 else ["c"]} for i in range(1, 31)])
    db.command("create", "big", viewOn="orders", pipeline=[{"$match": {"total": {"$gte": 100}}}])
    return db


def test_reads_through_a_view_see_the_pipelines_documents(shop):
    expected = [{"_id": i, "total": i * 10} for i in range(10, 31) if ["Oslo", "Lima", "Pune"][i % 3] == "Lima"]
    got = list(shop.big.find({"city": "Lima"}, {"_id": 1, "total": 1}).sort("_id", 1))
    assert got == expected
    assert shop.big.count_documents({}) == 21
    assert shop.big.estimated_document_count() == 21
    assert shop.big.count_documents({"city": "Oslo"}, skip=2, limit=3) == 3
    assert sorted(shop.big.distinct("city")) == ["Lima", "Oslo", "Pune"]
    assert sorted(shop.big.distinct("tags", {"_id": {"$lte": 11}})) == ["a", "b", "c"]
    totals = list(shop.big.aggregate([{"$group": {"_id": None, "sum": {"$sum": "$total"}}}]))
    assert totals == [{"_id": None, "sum": sum(i * 10 for i in range(10, 31))}]
    # Batches past the first come by getMore on the view's namespace.
    cursor = shop.big.find({}, batch_size=4).sort("_id", -1)
    assert [d["_id"] for d in cursor] == list(range(30, 9, -1))
    assert [d["_id"] for d in shop.big.find().sort("_id", 1).skip(3).limit(2)] == [13, 14]
    # A view of a view applies both pipelines, innermost first.
    shop.command("create", "bigLima", viewOn="big", pipeline=[{"$match": {"city": "Lima"}}])
    assert [d["_id"] for d in shop.bigLima.find().sort("_id", 1)] == [e["_id"] for e in expected]
    # The view follows its collection's writes.
    shop.orders.insert_one({"_id": 99, "city": "Lima", "total": 990})
    assert shop.bigLima.count_documents({}) == len(expected) + 1


def test_views_are_listed_and_changed_and_dropped_like_mongodbs(shop):
    infos = {c["name"]: c for c in shop.list_collections()}
    assert infos["big"]["type"] == "view"
    assert infos["big"]["options"] == {"viewOn": "orders", "pipeline": [{"$match": {"total": {"$gte": 100}}}]}
    assert infos["big"]["info"]["readOnly"] is True
    assert infos["orders"]["type"] == "collection"
    assert "big" in shop.list_collection_names(filter={"type": "view"})
    shop.command("collMod", "big", viewOn="orders", pipeline=[{"$match": {"total": {"$lt": 50}}}])
    assert shop.big.count_documents({}) == 4
    shop.big.drop()
    assert "big" not in shop.list_collection_names()
    assert shop.orders.count_documents({}) == 30


def test_writes_indexes_and_change_streams_on_a_view_are_refused(shop):
    message = fails(166, lambda: shop.big.insert_one({"_id": 100}))
    assert message == f"Namespace {shop.name}.big is a view, not a collection"
    fails(166, lambda: shop.big.update_one({"_id": 10}, {"$set": {"x": 1}}))
    fails(166, lambda: shop.big.delete_many({}))
    fails(166, lambda: shop.big.find_one_and_update({"_id": 10}, {"$set": {"x": 1}}))
    fails(166, lambda: shop.big.create_index("total"))
    fails(166, lambda: shop.big.watch())
    fails(48, lambda: shop.command("create", "big"))
    fails(48, lambda: shop.command("create", "orders", viewOn="big", pipeline=[]))
    fails(157, lambda: shop.command("create", "w", viewOn="orders", pipeline=[{"$out": "x"}]))
    # A view that would read itself is a cycle.
    shop.command("create", "v1", viewOn="big", pipeline=[])
    fails(5, lambda: shop.command("collMod", "big", viewOn="v1", pipeline=[]))
    assert shop.orders.count_documents({}) == 30


def test_views_survive_a_restart(fresh_server):
    fresh_server.start()
    with fresh_server.client() as client:
        client.kept.items.insert_many([{"_id": i} for i in range(10)])
        client.kept.command("create", "odd", viewOn="items", pipeline=[{"$match": {"_id": {"$mod": [2, 1]}}}])
    assert fresh_server.stop() == 0
    fresh_server.start()
    with fresh_server.client() as client:
        assert [d["_id"] for d in client.kept.odd.find().sort("_id", 1)] == [1, 3, 5, 7, 9]
        fails(166, lambda: client.kept.odd.insert_one({"_id": 11}))
