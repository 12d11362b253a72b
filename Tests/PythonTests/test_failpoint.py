"""configureFailPoint's failCommand, the test-only fail point driver spec tests use."""
import pytest
from pymongo.errors import AutoReconnect, OperationFailure


def test_fail_command_fails_the_named_command_the_given_times(client, db):
    db.items.insert_one({"_id": 1})
    client.admin.command({"configureFailPoint": "failCommand", "mode": {"times": 2},
                          "data": {"failCommands": ["count"], "errorCode": 8, "errorLabels": ["Custom"]}})
    try:
        assert db.items.find_one({"_id": 1}) == {"_id": 1}  # other commands run
        for _ in range(2):
            with pytest.raises(OperationFailure) as failure:
                db.command("count", "items")
            assert failure.value.code == 8
            assert failure.value.has_error_label("Custom")
        assert db.command("count", "items")["n"] == 1
    finally:
        client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def test_fail_command_can_close_the_connection(client, db):
    client.admin.command({"configureFailPoint": "failCommand", "mode": "alwaysOn",
                          "data": {"failCommands": ["distinct"], "closeConnection": True}})
    try:
        with pytest.raises(AutoReconnect):
            db.items.distinct("x")
    finally:
        client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
    assert db.items.distinct("x") == []


def test_fail_points_need_test_commands_enabled(fresh_server):
    fresh_server.start()
    with fresh_server.client() as plain:
        with pytest.raises(OperationFailure) as failure:
            plain.admin.command({"configureFailPoint": "failCommand", "mode": "alwaysOn",
                                 "data": {"failCommands": ["ping"], "errorCode": 8}})
        assert failure.value.code == 59
        assert plain.admin.command("ping")["ok"] == 1
