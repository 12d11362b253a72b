"""Databases and collections: list, create, drop, rename."""
import pytest
from pymongo.errors import CollectionInvalid, OperationFailure


def test_list_database_names(client, db):
    db.things.insert_one({"x": 1})
    assert db.name in client.list_database_names()
    names = [d["name"] for d in client.list_databases()]
    assert db.name in names


def test_list_collection_names_and_filter(db):
    db.alpha.insert_one({"x": 1})
    db.beta.insert_one({"x": 1})
    db.create_collection("gamma")
    assert sorted(db.list_collection_names()) == ["alpha", "beta", "gamma"]
    assert db.list_collection_names(filter={"name": "beta"}) == ["beta"]
    infos = list(db.list_collections())
    assert {i["name"] for i in infos} == {"alpha", "beta", "gamma"}
    assert all(i["type"] == "collection" for i in infos)


def test_create_existing_collection_fails(db):
    db.create_collection("once")
    with pytest.raises(CollectionInvalid):
        db.create_collection("once")
    with pytest.raises(OperationFailure) as failure:
        db.command("create", "once")
    assert failure.value.code == 48


def test_drop_collection(db):
    db.doomed.insert_one({"x": 1})
    db.drop_collection("doomed")
    assert "doomed" not in db.list_collection_names()
    assert db.doomed.find_one() is None
    db.drop_collection("never_existed")


def test_drop_database(client, db):
    db.things.insert_one({"x": 1})
    client.drop_database(db.name)
    assert db.name not in client.list_database_names()


def test_rename_collection(db):
    db.before.insert_many([{"_id": i} for i in range(3)])
    db.before.rename("after")
    assert "before" not in db.list_collection_names()
    assert db.after.count_documents({}) == 3
    db.other.insert_one({"_id": "o"})
    with pytest.raises(OperationFailure):
        db.after.rename("other")
    db.after.rename("other", dropTarget=True)
    assert db.other.count_documents({}) == 3


def test_list_indexes_has_the_id_index(db):
    db.things.insert_one({"x": 1})
    indexes = list(db.things.list_indexes())
    assert [i["name"] for i in indexes] == ["_id_"]


def test_db_and_collection_stats(db):
    db.things.insert_many([{"x": i} for i in range(5)])
    assert db.command("dbStats")["objects"] == 5
    stats = db.command("collStats", "things")
    assert stats["count"] == 5 and stats["size"] > 0
