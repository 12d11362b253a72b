"""User-defined roles: createRole and friends, privileges checked per command, admin.system.roles."""
import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from test_auth import as_user, auth_server, denied  # noqa: F401 (auth_server: the fixture, shared)


def fails(code, action):
    with pytest.raises(OperationFailure) as failure:
        action()
    assert failure.value.code == code, failure.value.details
    return failure.value.details["errmsg"]


def test_a_role_grants_exactly_its_privileges(auth_server):
    with as_user(auth_server, "root", "s3cret%3Apw", "admin") as root:
        root.shop.orders.insert_one({"_id": 1, "total": 5})
        root.shop.items.insert_one({"_id": 1})
        root.shop.command("createRole", "orderClerk", privileges=[
            {"resource": {"db": "shop", "collection": "orders"}, "actions": ["find", "insert"]}], roles=[])
        root.shop.command("createUser", "clerk", pwd="pw", roles=["orderClerk"])
        stored = root.admin.system.roles.find_one({"_id": "shop.orderClerk"})
        assert stored["role"] == "orderClerk" and stored["db"] == "shop"
        assert stored["privileges"] == [
            {"resource": {"db": "shop", "collection": "orders"}, "actions": ["find", "insert"]}]

    with as_user(auth_server, "clerk", "pw", "shop") as clerk:
        assert clerk.shop.orders.find_one() == {"_id": 1, "total": 5}
        clerk.shop.orders.insert_one({"_id": 2, "total": 7})
        denied(lambda: clerk.shop.orders.update_one({"_id": 1}, {"$set": {"total": 6}}),
               'not authorized on shop to execute command { update: "orders"')
        denied(lambda: clerk.shop.orders.delete_one({"_id": 1}))
        denied(lambda: clerk.shop.items.find_one())
        denied(lambda: clerk.shop.orders.create_index("total"))
        denied(lambda: clerk.admin.command("serverStatus"))
        # listDatabases shows the databases the user's privileges name.
        assert clerk.list_database_names() == ["shop"]
        status = clerk.admin.command("connectionStatus", showPrivileges=True)["authInfo"]
        assert status["authenticatedUserRoles"] == [{"role": "orderClerk", "db": "shop"}]
        assert status["authenticatedUserPrivileges"] == [
            {"resource": {"db": "shop", "collection": "orders"}, "actions": ["find", "insert"]}]


def test_role_changes_reach_open_connections_and_inheritance_composes(auth_server):
    with as_user(auth_server, "root", "s3cret%3Apw", "admin") as root:
        root.depot.crates.insert_one({"_id": 1})
        root.depot.command("createRole", "counter", privileges=[
            {"resource": {"db": "depot", "collection": ""}, "actions": ["find"]}], roles=[])
        root.depot.command("createRole", "stocker", privileges=[], roles=["counter"])
        root.depot.command("createUser", "hand", pwd="pw", roles=["stocker"])
        with MongoClient(f"mongodb://hand:pw@{auth_server.host}:{auth_server.port}/?authSource=depot"
                         "&authMechanism=SCRAM-SHA-256", serverSelectionTimeoutMS=10000, maxPoolSize=1) as hand:
            # Inherited through stocker -> counter: find on every collection of depot.
            assert hand.depot.crates.find_one() == {"_id": 1}
            denied(lambda: hand.depot.crates.insert_one({"_id": 2}))
            root.depot.command("grantPrivilegesToRole", "stocker", privileges=[
                {"resource": {"db": "depot", "collection": "crates"}, "actions": ["insert", "update"]}])
            hand.depot.crates.insert_one({"_id": 2})
            root.depot.command("revokePrivilegesFromRole", "stocker", privileges=[
                {"resource": {"db": "depot", "collection": "crates"}, "actions": ["insert"]}])
            denied(lambda: hand.depot.crates.insert_one({"_id": 3}))
            hand.depot.crates.update_one({"_id": 2}, {"$set": {"n": 1}})
            # A built-in role inherited by a user-defined one applies too.
            root.depot.command("grantRolesToRole", "stocker", roles=["readWrite"])
            hand.depot.crates.insert_one({"_id": 3})
            root.depot.command("revokeRolesFromRole", "stocker", roles=["readWrite", "counter"])
            denied(lambda: hand.depot.crates.find_one())
            root.depot.command("updateRole", "stocker", roles=["counter"])
            assert hand.depot.crates.count_documents({}) == 3
            info = root.depot.command("rolesInfo", "stocker", showPrivileges=True)["roles"][0]
            assert info["roles"] == [{"role": "counter", "db": "depot"}]
            assert info["inheritedRoles"] == [{"role": "counter", "db": "depot"}]
            assert info["isBuiltin"] is False
            assert info["privileges"] == [
                {"resource": {"db": "depot", "collection": "crates"}, "actions": ["update"]}]
            assert {"resource": {"db": "depot", "collection": ""}, "actions": ["find"]} in info["inheritedPrivileges"]
            # Dropping a role takes it from the roles and users that held it, on open connections too.
            root.depot.command("dropRole", "counter")
            assert root.depot.command("rolesInfo", "stocker")["roles"][0]["roles"] == []
            denied(lambda: hand.depot.crates.find_one())
            assert root.depot.command("usersInfo", "hand")["users"][0]["roles"] == [{"role": "stocker", "db": "depot"}]
            root.depot.command("dropRole", "stocker")
            assert root.depot.command("usersInfo", "hand")["users"][0]["roles"] == []


def test_bad_role_commands_get_mongodbs_errors(auth_server):
    with as_user(auth_server, "root", "s3cret%3Apw", "admin") as root:
        root.lab.command("createRole", "a", privileges=[], roles=[])
        root.lab.command("createRole", "b", privileges=[], roles=["a"])
        assert "already exists" in fails(51002, lambda: root.lab.command("createRole", "a", privileges=[], roles=[]))
        fails(2, lambda: root.lab.command("createRole", "read", privileges=[], roles=[]))
        fails(31, lambda: root.lab.command("createRole", "c", privileges=[], roles=["nope"]))
        fails(31, lambda: root.lab.command("createUser", "u", pwd="pw", roles=["nope"]))
        fails(31, lambda: root.lab.command("dropRole", "nope"))
        fails(49, lambda: root.lab.command("dropRole", "read"))
        fails(49, lambda: root.lab.command("grantPrivilegesToRole", "readWrite", privileges=[]))
        assert "cycle" in fails(5, lambda: root.lab.command("grantRolesToRole", "a", roles=["b"]))
        fails(5, lambda: root.lab.command("grantRolesToRole", "a", roles=["a"]))
        # A role off admin may not reach other databases or the cluster.
        fails(49, lambda: root.lab.command("createRole", "d", roles=[], privileges=[
            {"resource": {"db": "other", "collection": ""}, "actions": ["find"]}]))
        fails(49, lambda: root.lab.command("createRole", "d", roles=[], privileges=[
            {"resource": {"cluster": True}, "actions": ["serverStatus"]}]))
        fails(49, lambda: root.lab.command("createRole", "d", privileges=[], roles=[{"role": "read", "db": "x"}]))
        assert "Unrecognized action" in fails(2, lambda: root.lab.command("createRole", "d", roles=[], privileges=[
            {"resource": {"db": "lab", "collection": ""}, "actions": ["fly"]}]))
        fails(9, lambda: root.lab.command("createRole", "d", roles=[]))
        # rolesInfo: 1 lists the database's user-defined roles, built-in ones on request.
        names = [r["role"] for r in root.lab.command("rolesInfo", 1)["roles"]]
        assert sorted(names) == ["a", "b"]
        with_builtins = root.lab.command("rolesInfo", 1, showBuiltinRoles=True)["roles"]
        assert {"read", "readWrite", "dbOwner"} <= {r["role"] for r in with_builtins}
        assert "root" not in {r["role"] for r in with_builtins}  # an admin-only role
        assert root.lab.command("dropAllRolesFromDatabase", 1)["n"] == 2
        assert root.lab.command("rolesInfo", 1)["roles"] == []


def test_an_admin_role_may_hold_cluster_and_any_database_privileges(auth_server):
    with as_user(auth_server, "root", "s3cret%3Apw", "admin") as root:
        root.a.x.insert_one({"_id": 1})
        root.b.y.insert_one({"_id": 1})
        root.admin.command("createRole", "watcher", roles=[], privileges=[
            {"resource": {"cluster": True}, "actions": ["serverStatus"]},
            {"resource": {"db": "", "collection": ""}, "actions": ["find", "listCollections"]}])
        root.admin.command("createUser", "eye", pwd="pw", roles=["watcher"])
        # A user-administering role of one database may not create roles elsewhere.
        root.a.command("createRole", "roleMaker", roles=[], privileges=[
            {"resource": {"db": "a", "collection": ""}, "actions": ["createRole", "viewRole"]}])
        root.a.command("createUser", "maker", pwd="pw", roles=["roleMaker"])
    with as_user(auth_server, "eye", "pw", "admin") as eye:
        assert eye.admin.command("serverStatus")["ok"] == 1
        assert eye.a.x.find_one() == {"_id": 1} and eye.b.y.find_one() == {"_id": 1}
        assert {"a", "b"} <= set(eye.list_database_names())
        denied(lambda: eye.b.y.insert_one({"_id": 2}))
        denied(lambda: eye.admin.system.users.find_one())
        denied(lambda: eye.admin.command("killOp", op=1))
    with as_user(auth_server, "maker", "pw", "a") as maker:
        maker.a.command("createRole", "made", privileges=[], roles=[])
        assert [r["role"] for r in maker.a.command("rolesInfo", "made")["roles"]] == ["made"]
        denied(lambda: maker.b.command("createRole", "made", privileges=[], roles=[]))
        denied(lambda: maker.a.command("dropRole", "made"))
