"""Multi-document transactions over the wire: commit, abort, snapshot reads, conflicts."""
import threading

import pytest
from bson.int64 import Int64
from pymongo import ReturnDocument
from pymongo.errors import OperationFailure


@pytest.fixture
def items(db):
    db.create_collection("items")
    return db.items


def test_committed_writes_appear_together_and_not_before(client, items):
    with client.start_session() as session:
        with session.start_transaction():
            items.insert_one({"_id": 1}, session=session)
            items.insert_one({"_id": 2}, session=session)
            assert items.count_documents({}, session=session) == 2
            assert items.count_documents({}) == 0  # not visible outside before commit
    assert sorted(d["_id"] for d in items.find()) == [1, 2]


def test_aborted_writes_are_discarded(client, items):
    items.insert_one({"_id": 1, "v": "before"})
    with client.start_session() as session:
        session.start_transaction()
        items.update_one({"_id": 1}, {"$set": {"v": "inside"}}, session=session)
        items.delete_many({}, session=session)
        items.insert_one({"_id": 2}, session=session)
        assert [d["_id"] for d in items.find({}, session=session)] == [2]
        session.abort_transaction()
    assert list(items.find()) == [{"_id": 1, "v": "before"}]


def test_reads_see_the_snapshot_taken_at_the_start(client, items):
    items.insert_one({"_id": 1, "v": 1})
    with client.start_session() as session:
        with session.start_transaction():
            assert items.find_one({"_id": 1}, session=session)["v"] == 1
            items.update_one({"_id": 1}, {"$set": {"v": 2}})  # outside the transaction
            assert items.find_one({"_id": 1}, session=session)["v"] == 1
    assert items.find_one({"_id": 1})["v"] == 2


def test_a_conflicting_commit_is_write_conflict_labelled_transient(client, items):
    items.insert_one({"_id": 1, "v": 0})
    with client.start_session() as session:
        session.start_transaction()
        items.update_one({"_id": 1}, {"$set": {"v": "txn"}}, session=session)
        items.update_one({"_id": 1}, {"$set": {"v": "outside"}})
        with pytest.raises(OperationFailure) as failure:
            session.commit_transaction()
        assert failure.value.code == 112
        assert failure.value.has_error_label("TransientTransactionError")
    assert items.find_one({"_id": 1})["v"] == "outside"


def test_with_transaction_retries_after_a_conflict(client, items):
    items.insert_one({"_id": 1, "n": 0})
    attempts = []

    def transfer(session):
        attempts.append(1)
        doc = items.find_one({"_id": 1}, session=session)
        if len(attempts) == 1:
            items.update_one({"_id": 1}, {"$inc": {"n": 100}})  # a concurrent writer
        items.update_one({"_id": 1}, {"$set": {"n": doc["n"] + 1}}, session=session)

    with client.start_session() as session:
        session.with_transaction(transfer)
    assert len(attempts) == 2
    assert items.find_one({"_id": 1})["n"] == 101


def test_concurrent_transactions_lose_no_increment(client, items):
    items.insert_one({"_id": "counter", "n": 0})
    per_thread, threads = 10, 4
    errors = []

    def work():
        try:
            with client.start_session() as session:
                for _ in range(per_thread):
                    def increment(s):
                        doc = items.find_one({"_id": "counter"}, session=s)
                        items.update_one({"_id": "counter"}, {"$set": {"n": doc["n"] + 1}}, session=s)
                    session.with_transaction(increment)
        except Exception as error:  # surfaced below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert items.find_one({"_id": "counter"})["n"] == per_thread * threads


def test_commit_of_an_unknown_transaction_is_no_such_transaction(client):
    with client.start_session() as session:
        with pytest.raises(OperationFailure) as failure:
            client.admin.command({"commitTransaction": 1, "txnNumber": Int64(10**15), "autocommit": False},
                                 session=session)
        assert failure.value.code == 251
        assert failure.value.has_error_label("TransientTransactionError")


def test_catalog_commands_are_refused_inside_a_transaction(client, db):
    with client.start_session() as session:
        session.start_transaction()
        with pytest.raises(OperationFailure) as failure:
            db.command("listCollections", session=session)
        assert failure.value.code == 263
        session.abort_transaction()


def test_an_unsupported_command_leaves_the_transaction_in_progress_usable(client, db, items):
    # MongoDB's rule (jstests/core/txns/commands_not_allowed_in_txn.js): the command fails with
    # OperationNotSupportedInTransaction and the transaction goes on; its commit succeeds.
    with client.start_session() as session:
        session.start_transaction()
        items.insert_one({"_id": "kept"}, session=session)
        with pytest.raises(OperationFailure) as failure:
            db.command("ping", session=session)
        assert failure.value.code == 263
        assert not failure.value.has_error_label("TransientTransactionError")
        items.insert_one({"_id": "after"}, session=session)
        session.commit_transaction()
    assert sorted(d["_id"] for d in items.find()) == ["after", "kept"]


def test_an_unsupported_command_cannot_start_a_transaction(client, db, items):
    # Sent with startTransaction it fails, and no transaction exists: commit is NoSuchTransaction.
    with client.start_session() as session:
        session.start_transaction()
        with pytest.raises(OperationFailure) as failure:
            db.command("listCollections", session=session)
        assert failure.value.code == 263
        with pytest.raises(OperationFailure) as commit:
            session.commit_transaction()
        assert commit.value.code == 251
    with client.start_session() as session:
        with session.start_transaction():
            items.insert_one({"_id": 1}, session=session)
    assert [d["_id"] for d in items.find()] == [1]


def test_find_and_modify_and_distinct_run_inside_a_transaction_and_count_is_refused(client, db, items):
    items.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 5}])
    with client.start_session() as session:
        session.start_transaction()
        items.insert_one({"_id": 3, "n": 9}, session=session)
        # Sees the transaction's own insert: the highest n is the pending document.
        before = items.find_one_and_update({}, {"$inc": {"n": 1}}, sort=[("n", -1)], session=session)
        assert before == {"_id": 3, "n": 9}
        removed = items.find_one_and_delete({"_id": 1}, session=session)
        assert removed == {"_id": 1, "n": 1}
        upserted = items.find_one_and_update({"_id": 4}, {"$set": {"n": 0}}, upsert=True,
                                             return_document=ReturnDocument.AFTER, session=session)
        assert upserted == {"_id": 4, "n": 0}
        assert items.distinct("n", session=session) == [0, 5, 10]
        with pytest.raises(OperationFailure) as counted:
            db.command("count", "items", session=session)
        assert counted.value.code == 263
        # Nothing is visible outside before the commit.
        assert sorted(d["_id"] for d in items.find()) == [1, 2]
        session.commit_transaction()
    assert list(items.find().sort("_id")) == [{"_id": 2, "n": 5}, {"_id": 3, "n": 10}, {"_id": 4, "n": 0}]


def test_a_committed_transaction_is_counted(client, items):
    before = client.admin.command("serverStatus")["transactions"]["totalCommitted"]
    with client.start_session() as session:
        with session.start_transaction():
            items.insert_one({"_id": 1}, session=session)
    assert client.admin.command("serverStatus")["transactions"]["totalCommitted"] == before + 1


def test_a_failed_statement_aborts_the_transaction(client, items):
    items.insert_one({"_id": 1})
    with client.start_session() as session:
        session.start_transaction()
        items.insert_one({"_id": 2}, session=session)
        with pytest.raises(OperationFailure) as duplicate:
            items.insert_one({"_id": 1}, session=session)
        # A write error fails the whole command inside a transaction, without a retry label.
        assert duplicate.value.code == 11000
        assert duplicate.value.details["keyValue"] == {"_id": 1}
        assert not duplicate.value.has_error_label("TransientTransactionError")
        with pytest.raises(OperationFailure) as after:
            items.insert_one({"_id": 3}, session=session)
        assert after.value.code == 251
        assert after.value.has_error_label("TransientTransactionError")
        with pytest.raises(OperationFailure) as commit:
            session.commit_transaction()
        assert commit.value.code == 251
    assert [d["_id"] for d in items.find()] == [1]


def test_a_failed_read_aborts_the_transaction_and_a_new_one_starts_clean(client, items):
    with client.start_session() as session:
        session.start_transaction()
        items.insert_one({"_id": "lost"}, session=session)
        with pytest.raises(OperationFailure) as bad:
            list(items.find({"$bogus": 1}, session=session))
        assert bad.value.code != 251
        with pytest.raises(OperationFailure) as after:
            items.find_one({}, session=session)
        assert after.value.code == 251
        session.abort_transaction()  # the driver ends its side; the server's is already aborted
        with session.start_transaction():
            items.insert_one({"_id": "kept"}, session=session)
    assert [d["_id"] for d in items.find()] == ["kept"]
