"""The aggregation pipeline through pymongo: stages, accumulators, errors, cursor batches and
getMore, $out, $lookup, $facet, explain. Expected results are written from MongoDB's documented
semantics."""
import datetime

import pytest
from pymongo.errors import OperationFailure

SALES = [
    {"_id": 1, "item": "a", "price": 10, "qty": 2, "tags": ["x", "y"],
     "date": datetime.datetime(2021, 3, 4, 5, 6, 7)},
    {"_id": 2, "item": "b", "price": 20, "qty": 1, "tags": ["y"],
     "date": datetime.datetime(2021, 4, 1)},
    {"_id": 3, "item": "a", "price": 5, "qty": 10, "tags": [],
     "date": datetime.datetime(2022, 1, 1)},
    {"_id": 4, "item": "c", "price": 20, "qty": 3},
    {"_id": 5, "item": "b", "price": 15.5, "qty": None, "tags": None},
]


@pytest.fixture
def sales(db):
    db.sales.insert_many(SALES)
    db.items.insert_many([{"_id": "a", "name": "Apple"}, {"_id": "b", "name": "Banana"}])
    return db.sales


def test_match_project_sort(sales):
    docs = list(sales.aggregate([
        {"$match": {"price": {"$gte": 10}}},
        {"$project": {"_id": 0, "item": 1, "total": {"$multiply": ["$price", "$qty"]}}},
        {"$sort": {"total": -1, "item": 1}},
    ]))
    # totals: a 20, b 20, c 60, b null (qty null)
    assert docs == [{"item": "c", "total": 60}, {"item": "a", "total": 20}, {"item": "b", "total": 20},
                    {"item": "b", "total": None}]


def test_group_accumulators(sales):
    docs = list(sales.aggregate([
        {"$group": {"_id": "$item", "sum": {"$sum": "$price"}, "avg": {"$avg": "$price"},
                    "min": {"$min": "$qty"}, "max": {"$max": "$qty"}, "first": {"$first": "$_id"},
                    "last": {"$last": "$_id"}, "ids": {"$push": "$_id"}, "tags": {"$addToSet": "$item"},
                    "n": {"$count": {}}}},
        {"$sort": {"_id": 1}},
    ]))
    assert docs == [
        {"_id": "a", "sum": 15, "avg": 7.5, "min": 2, "max": 10, "first": 1, "last": 3, "ids": [1, 3],
         "tags": ["a"], "n": 2},
        {"_id": "b", "sum": 35.5, "avg": 17.75, "min": 1, "max": 1, "first": 2, "last": 5, "ids": [2, 5],
         "tags": ["b"], "n": 2},
        {"_id": "c", "sum": 20, "avg": 20.0, "min": 3, "max": 3, "first": 4, "last": 4, "ids": [4],
         "tags": ["c"], "n": 1},
    ]


def test_unwind_and_sort_by_count(sales):
    docs = list(sales.aggregate([{"$unwind": "$tags"}, {"$sortByCount": "$tags"}]))
    assert docs == [{"_id": "y", "count": 2}, {"_id": "x", "count": 1}]
    docs = list(sales.aggregate([
        {"$unwind": {"path": "$tags", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": True}},
        {"$project": {"tags": 1, "i": 1}}]))
    assert [(d["_id"], d.get("tags", "-"), d["i"]) for d in docs] == [
        (1, "x", 0), (1, "y", 1), (2, "y", 0), (3, "-", None), (4, "-", None), (5, None, None)]


def test_expressions_and_dates(sales):
    docs = list(sales.aggregate([
        {"$match": {"_id": 1}},
        {"$project": {
            "_id": 0,
            "year": {"$year": "$date"}, "month": {"$month": "$date"}, "day": {"$dayOfMonth": "$date"},
            "hour": {"$hour": "$date"},
            "when": {"$dateToString": {"format": "%Y-%m-%d %H:%M", "date": "$date"}},
            "upper": {"$toUpper": "$item"}, "label": {"$concat": ["item-", {"$toString": "$_id"}]},
            "cheap": {"$cond": [{"$lt": ["$price", 12]}, "yes", "no"]},
            "kind": {"$switch": {"branches": [{"case": {"$gt": ["$qty", 5]}, "then": "bulk"}], "default": "few"}},
            "big": {"$filter": {"input": "$tags", "as": "t", "cond": {"$ne": ["$$t", "x"]}}},
            "twice": {"$map": {"input": [1, 2], "in": {"$multiply": ["$$this", 2]}}},
            "parts": {"$split": ["a-b", "-"]}, "sub": {"$substrCP": ["hello", 1, 3]},
            "rounded": {"$round": [2.675, 1]}, "n": {"$toInt": "42"}, "t": {"$type": "$price"},
        }},
    ]))
    assert docs == [{
        "year": 2021, "month": 3, "day": 4, "hour": 5, "when": "2021-03-04 05:06", "upper": "A",
        "label": "item-1", "cheap": "yes", "kind": "few", "big": ["y"], "twice": [2, 4],
        "parts": ["a", "b"], "sub": "ell", "rounded": 2.7, "n": 42, "t": "int",
    }]


def test_lookup_equality_and_pipeline(sales):
    docs = list(sales.aggregate([
        {"$match": {"_id": {"$in": [1, 4]}}},
        {"$lookup": {"from": "items", "localField": "item", "foreignField": "_id", "as": "info"}},
        {"$project": {"info.name": 1}},
    ]))
    assert docs == [{"_id": 1, "info": [{"name": "Apple"}]}, {"_id": 4, "info": []}]
    docs = list(sales.aggregate([
        {"$match": {"_id": 2}},
        {"$lookup": {"from": "items", "let": {"it": "$item"},
                     "pipeline": [{"$match": {"$expr": {"$eq": ["$_id", "$$it"]}}}, {"$project": {"_id": 0}}],
                     "as": "info"}},
        {"$project": {"info": 1}},
    ]))
    assert docs == [{"_id": 2, "info": [{"name": "Banana"}]}]


def test_facet_bucket_sample(sales):
    [doc] = list(sales.aggregate([{"$facet": {
        "prices": [{"$bucket": {"groupBy": "$price", "boundaries": [0, 10, 20], "default": "high"}}],
        "count": [{"$count": "n"}],
    }}]))
    assert doc == {"prices": [{"_id": 0, "count": 1}, {"_id": 10, "count": 2}, {"_id": "high", "count": 2}],
                   "count": [{"n": 5}]}
    sample = list(sales.aggregate([{"$sample": {"size": 2}}]))
    assert len(sample) == 2 and len({d["_id"] for d in sample}) == 2


def test_batches_and_get_more(db):
    db.many.insert_many([{"_id": i, "k": i % 10} for i in range(250)])
    cursor = db.many.aggregate([{"$match": {"k": {"$lt": 5}}}, {"$project": {"k": 1}}], batchSize=7)
    ids = [d["_id"] for d in cursor]
    assert ids == [i for i in range(250) if i % 10 < 5]
    reply = db.command("aggregate", "many", pipeline=[{"$sort": {"_id": -1}}], cursor={"batchSize": 3})
    assert [d["_id"] for d in reply["cursor"]["firstBatch"]] == [249, 248, 247]
    assert reply["cursor"]["id"] != 0
    more = db.command("getMore", reply["cursor"]["id"], collection="many", batchSize=4)
    assert [d["_id"] for d in more["cursor"]["nextBatch"]] == [246, 245, 244, 243]
    db.command("killCursors", "many", cursors=[reply["cursor"]["id"]])


def test_out_replaces_target(sales, db):
    db.archive.insert_one({"_id": 99})
    reply = db.command("aggregate", "sales", pipeline=[{"$match": {"item": "a"}}, {"$project": {"price": 1}},
                                                       {"$out": "archive"}], cursor={})
    assert reply["cursor"]["firstBatch"] == [] and reply["cursor"]["id"] == 0
    assert list(db.archive.find().sort("_id", 1)) == [{"_id": 1, "price": 10}, {"_id": 3, "price": 5}]
    assert not [name for name in db.list_collection_names() if name.startswith("tmp.")]


def test_explain_shows_pushed_down_find(sales, db):
    reply = db.command("aggregate", "sales", pipeline=[{"$match": {"item": "a"}}, {"$sort": {"price": 1}},
                                                       {"$group": {"_id": None, "n": {"$sum": 1}}}], explain=True)
    assert reply["stages"][0]["$cursor"]["filter"] == {"item": "a"}
    assert reply["stages"][0]["$cursor"]["sort"] == {"price": 1}
    assert reply["stages"][1] == {"$group": {"_id": None, "n": {"$sum": 1}}}


@pytest.mark.parametrize("pipeline,code,message", [
    ([{"$frobnicate": {}}], 40324, "Unrecognized pipeline stage name: '$frobnicate'"),
    ([{"$project": {"x": {"$frobnicate": 1}}}], 168, "Unrecognized expression '$frobnicate'"),
    ([{"$group": {"_id": None, "x": {"$median": "$a"}}}], 15952, "unknown group operator '$median'"),
    ([{"$limit": 0}], 15958, None),
    ([{"$out": "x"}, {"$match": {}}], 40601, None),
    ([{"$project": {"x": {"$toInt": "abc"}}}], 241, None),
])
def test_errors(sales, pipeline, code, message):
    with pytest.raises(OperationFailure) as failure:
        list(sales.aggregate(pipeline))
    assert failure.value.code == code
    if message:
        assert message in str(failure.value.details.get("errmsg"))


def test_database_level_aggregate_with_documents(sales, db):
    # pymongo's Database.aggregate sends {aggregate: 1}; batches past the first come by getMore
    # on "<db>.$cmd.aggregate".
    docs = list(db.aggregate([
        {"$documents": [{"x": i} for i in range(7)]},
        {"$match": {"x": {"$gte": 2}}},
        {"$lookup": {"from": "items", "pipeline": [{"$match": {"_id": "a"}}], "as": "it"}},
        {"$project": {"_id": 0, "x": 1, "name": {"$arrayElemAt": ["$it.name", 0]}}},
    ], batchSize=2))
    assert docs == [{"x": i, "name": "Apple"} for i in range(2, 7)]
    with pytest.raises(OperationFailure) as failure:
        list(db.aggregate([{"$match": {}}]))
    assert failure.value.code == 73
    with pytest.raises(OperationFailure) as failure:
        list(sales.aggregate([{"$documents": [{}]}]))
    assert failure.value.code == 73


def test_out_keeps_the_targets_indexes(sales, db):
    db.archive.insert_one({"_id": 99, "item": "z"})
    db.archive.create_index("item", name="byItem")
    db.archive.create_index([("price", -1)], unique=True, sparse=True)
    before = db.archive.index_information()
    list(sales.aggregate([{"$match": {"price": {"$lt": 20}}}, {"$project": {"item": 1, "price": 1}},
                          {"$out": "archive"}]))
    assert db.archive.index_information() == before
    assert sorted(d["_id"] for d in db.archive.find()) == [1, 3, 5]
    with pytest.raises(OperationFailure) as failure:  # ids 2 and 4 share price 20
        list(sales.aggregate([{"$match": {"price": 20}}, {"$out": "archive"}]))
    assert failure.value.code == 11000
    assert sorted(d["_id"] for d in db.archive.find()) == [1, 3, 5]


def test_date_parts_in_a_timezone(sales):
    docs = list(sales.aggregate([
        {"$match": {"_id": 1}},  # 2021-03-04T05:06:07Z, a Thursday
        {"$project": {
            "_id": 0,
            "h": {"$hour": {"date": "$date", "timezone": "-08:00"}},
            "d": {"$dayOfWeek": {"date": "$date", "timezone": "-0800"}},
            "ny": {"$hour": {"date": "$date", "timezone": "America/New_York"}},
            "s": {"$dateToString": {"format": "%Y-%m-%d %H:%M %z", "date": "$date", "timezone": "+05:30"}},
        }},
    ]))
    assert docs == [{"h": 21, "d": 4, "ny": 0, "s": "2021-03-04 10:36 +0530"}]
    with pytest.raises(OperationFailure) as failure:
        list(sales.aggregate([{"$project": {"h": {"$hour": {"date": "$date", "timezone": "Nowhere/Land"}}}}]))
    assert failure.value.code == 40485
