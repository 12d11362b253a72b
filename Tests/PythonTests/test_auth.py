"""SCRAM-SHA-256 and SCRAM-SHA-1 authentication, users in admin.system.users."""
import os

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from conftest import ServerProcess


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth")
    os.environ["OSMANTHUS_ROOT_USER"] = "root"
    os.environ["OSMANTHUS_ROOT_PASSWORD"] = "s3cret:pw"
    try:
        process = ServerProcess(root / "data", root / "server.log", ["--auth"]).start()
    finally:
        del os.environ["OSMANTHUS_ROOT_USER"]
        del os.environ["OSMANTHUS_ROOT_PASSWORD"]
    yield process
    assert process.stop() == 0


def connect(server, user, password, mechanism, **kwargs):
    return MongoClient(f"mongodb://{user}:{password}@{server.host}:{server.port}/?authMechanism={mechanism}"
                       "&authSource=admin", serverSelectionTimeoutMS=10000, **kwargs)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_the_root_user_from_the_environment_authenticates(auth_server, mechanism):
    with connect(auth_server, "root", "s3cret%3Apw", mechanism) as client:
        client.t.items.insert_one({"_id": mechanism})
        assert client.t.items.find_one({"_id": mechanism}) == {"_id": mechanism}
        status = client.admin.command("connectionStatus")
        assert status["ok"] == 1


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_a_wrong_password_is_authentication_failed(auth_server, mechanism):
    with connect(auth_server, "root", "wrong", mechanism) as client:
        with pytest.raises(OperationFailure) as failure:
            client.admin.command("ping")
        assert failure.value.code == 18


def test_unauthenticated_commands_are_unauthorized_but_the_handshake_answers(auth_server):
    with auth_server.client() as anonymous:
        assert anonymous.admin.command("ping")["ok"] == 1
        assert anonymous.admin.command("hello")["isWritablePrimary"] is True
        with pytest.raises(OperationFailure) as failure:
            anonymous.t.items.find_one()
        assert failure.value.code == 13


def test_created_users_authenticate_and_dropped_ones_no_longer(auth_server):
    with connect(auth_server, "root", "s3cret%3Apw", "SCRAM-SHA-256") as root:
        root.app.command("createUser", "alice", pwd="wonder", roles=["readWrite"])
        with pytest.raises(OperationFailure) as duplicate:
            root.app.command("createUser", "alice", pwd="other", roles=[])
        assert duplicate.value.code == 51003
        info = root.app.command("usersInfo", "alice")["users"]
        assert [u["user"] for u in info] == ["alice"]
        assert "credentials" not in info[0]
        assert sorted(info[0]["mechanisms"]) == ["SCRAM-SHA-1", "SCRAM-SHA-256"]
        # Without authMechanism the driver asks hello for the user's mechanisms.
        with MongoClient(f"mongodb://alice:wonder@{auth_server.host}:{auth_server.port}/?authSource=app",
                         serverSelectionTimeoutMS=10000) as alice:
            alice.app.notes.insert_one({"by": "alice"})
            assert alice.app.notes.count_documents({}) == 1
        root.app.command("dropUser", "alice")
        with MongoClient(f"mongodb://alice:wonder@{auth_server.host}:{auth_server.port}/?authSource=app",
                         serverSelectionTimeoutMS=10000) as alice:
            with pytest.raises(OperationFailure) as failure:
                alice.app.command("ping")
            assert failure.value.code == 18
        with pytest.raises(OperationFailure) as missing:
            root.app.command("dropUser", "alice")
        assert missing.value.code == 11


def test_the_user_store_holds_no_password(auth_server):
    with connect(auth_server, "root", "s3cret%3Apw", "SCRAM-SHA-256") as root:
        record = root.admin.system.users.find_one({"user": "root"})
        assert "s3cret" not in repr(record)
        assert set(record["credentials"]) == {"SCRAM-SHA-1", "SCRAM-SHA-256"}


def test_loopback_without_auth_flag_needs_no_credentials(client):
    assert client.t.items.count_documents({}) >= 0


def test_hello_answers_a_speculative_scram_start(auth_server):
    import bson
    from bson.binary import Binary
    from test_wire import connect as raw_connect, op_msg, read_message
    sock = raw_connect(auth_server)
    try:
        first = b"n,,n=root,r=clientnonce123"
        sock.sendall(op_msg(1, {"hello": 1, "$db": "admin", "speculativeAuthenticate": {
            "saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": Binary(first), "db": "admin",
            "options": {"skipEmptyExchange": True}}}))
        _, _, _, body = read_message(sock)
        reply = bson.decode(body[5:])
        speculative = reply["speculativeAuthenticate"]
        assert speculative["done"] is False
        assert bytes(speculative["payload"]).startswith(b"r=clientnonce123")
        assert b",i=15000" in bytes(speculative["payload"])
    finally:
        sock.close()


def as_user(server, user, password, db):
    return MongoClient(f"mongodb://{user}:{password}@{server.host}:{server.port}/?authSource={db}"
                       "&authMechanism=SCRAM-SHA-256", serverSelectionTimeoutMS=10000)


def denied(action, message_start=None):
    with pytest.raises(OperationFailure) as failure:
        action()
    assert failure.value.code == 13, failure.value.details
    assert failure.value.details["codeName"] == "Unauthorized"
    if message_start:
        assert failure.value.details["errmsg"].startswith(message_start), failure.value.details["errmsg"]


def test_built_in_roles_decide_what_each_user_may_run(auth_server):
    with connect(auth_server, "root", "s3cret%3Apw", "SCRAM-SHA-256") as root:
        root.shop.items.insert_one({"_id": 1})
        root.other.things.insert_one({"_id": 1})
        for user, roles in [("reader", ["read"]), ("writer", ["readWrite"]), ("keeper", ["dbAdmin"]),
                            ("porter", ["userAdmin"])]:
            root.shop.command("createUser", user, pwd="pw", roles=roles)
        root.admin.command("createUser", "auditor", pwd="pw", roles=["readAnyDatabase"])
        root.admin.command("createUser", "ops", pwd="pw", roles=[{"role": "readWriteAnyDatabase", "db": "admin"}])
        for roles in (["root"], ["nope"], [{"role": "read", "db": "shop"}, "readAnyDatabase"]):
            with pytest.raises(OperationFailure) as unknown:
                root.shop.command("createUser", "x", pwd="pw", roles=roles)
            assert unknown.value.code == 31
        stored = root.shop.command("usersInfo", "writer")["users"][0]["roles"]
        assert stored == [{"role": "readWrite", "db": "shop"}]

    with as_user(auth_server, "reader", "pw", "shop") as reader:
        assert reader.shop.items.find_one() == {"_id": 1}
        assert reader.shop.items.count_documents({}) == 1
        assert reader.shop.list_collection_names() == ["items"]
        denied(lambda: reader.shop.items.insert_one({"_id": 2}),
               'not authorized on shop to execute command { insert: "items"')
        denied(lambda: reader.other.things.find_one())
        denied(lambda: reader.shop.command("createUser", "y", pwd="pw", roles=[]))
        # listDatabases shows a user without an any-database role only its own databases.
        assert reader.list_database_names() == ["shop"]
        denied(lambda: reader.admin.command("listDatabases", authorizedDatabases=False))
        status = reader.admin.command("connectionStatus")["authInfo"]
        assert status["authenticatedUsers"] == [{"user": "reader", "db": "shop"}]
        assert status["authenticatedUserRoles"] == [{"role": "read", "db": "shop"}]

    with as_user(auth_server, "writer", "pw", "shop") as writer:
        writer.shop.items.insert_one({"_id": 2})
        writer.shop.items.update_one({"_id": 2}, {"$set": {"x": 1}})
        writer.shop.items.create_index("x")
        list(writer.shop.items.aggregate([{"$match": {}}, {"$out": "copy"}]))
        assert writer.shop.copy.count_documents({}) == 2
        writer.shop.copy.drop()
        denied(lambda: writer.shop.command("collMod", "items", changeStreamPreAndPostImages={"enabled": True}))
        denied(lambda: writer.other.things.insert_one({"_id": 3}))
        denied(lambda: list(writer.shop.items.aggregate([{"$out": {"db": "other", "coll": "x"}}])))
        denied(lambda: writer.admin.command("serverStatus"))
        denied(lambda: writer.admin.system.users.find_one())
        assert writer.admin.command("connectionStatus")["authInfo"]["authenticatedUserRoles"] == [
            {"role": "readWrite", "db": "shop"}]

    with as_user(auth_server, "keeper", "pw", "shop") as keeper:
        keeper.shop.command("collMod", "items", changeStreamPreAndPostImages={"enabled": True})
        keeper.shop.items.create_index("y")
        assert "items" in keeper.shop.list_collection_names()
        denied(lambda: keeper.shop.items.find_one())
        denied(lambda: keeper.shop.items.insert_one({"_id": 9}))

    with as_user(auth_server, "porter", "pw", "shop") as porter:
        porter.shop.command("createUser", "late", pwd="pw", roles=["read"])
        assert [u["user"] for u in porter.shop.command("usersInfo", "late")["users"]] == ["late"]
        porter.shop.command("dropUser", "late")
        denied(lambda: porter.shop.items.find_one())

    with as_user(auth_server, "auditor", "pw", "admin") as auditor:
        assert auditor.shop.items.count_documents({}) == 2
        assert auditor.other.things.find_one() == {"_id": 1}
        assert {"shop", "other"} <= set(auditor.list_database_names())
        denied(lambda: auditor.other.things.insert_one({"_id": 4}))
        denied(lambda: auditor.admin.system.users.find_one())

    with as_user(auth_server, "ops", "pw", "admin") as ops:
        ops.other.things.insert_one({"_id": 5})
        assert ops.shop.items.count_documents({}) == 2
        denied(lambda: ops.shop.command("createUser", "z", pwd="pw", roles=[]))
        denied(lambda: ops.other.command("dropDatabase"))


def test_user_changes_reach_connections_already_authenticated(auth_server):
    with connect(auth_server, "root", "s3cret%3Apw", "SCRAM-SHA-256") as root:
        root.depot.crates.insert_one({"_id": 1})
        root.depot.command("createUser", "mover", pwd="first", roles=["read"])
        # One pooled connection: every command below runs on the connection that authenticated.
        with MongoClient(f"mongodb://mover:first@{auth_server.host}:{auth_server.port}/?authSource=depot"
                         "&authMechanism=SCRAM-SHA-256", serverSelectionTimeoutMS=10000, maxPoolSize=1) as mover:
            assert mover.depot.crates.find_one() == {"_id": 1}
            denied(lambda: mover.depot.crates.insert_one({"_id": 2}))
            root.depot.command("grantRolesToUser", "mover", roles=["readWrite"])
            mover.depot.crates.insert_one({"_id": 2})
            roles = root.depot.command("usersInfo", "mover")["users"][0]["roles"]
            assert roles == [{"role": "read", "db": "depot"}, {"role": "readWrite", "db": "depot"}]
            root.depot.command("revokeRolesFromUser", "mover", roles=["readWrite"])
            denied(lambda: mover.depot.crates.insert_one({"_id": 3}))
            assert mover.admin.command("connectionStatus")["authInfo"]["authenticatedUserRoles"] == [
                {"role": "read", "db": "depot"}]
            # A new password: this connection stays authenticated; new logins need the new one.
            root.depot.command("updateUser", "mover", pwd="second", roles=["readWrite"])
            mover.depot.crates.insert_one({"_id": 3})
            with pytest.raises(OperationFailure) as old_password:
                with as_user(auth_server, "mover", "first", "depot") as stale:
                    stale.depot.command("ping")
            assert old_password.value.code == 18
            with as_user(auth_server, "mover", "second", "depot") as fresh:
                assert fresh.depot.crates.count_documents({}) == 3
            with pytest.raises(OperationFailure) as nothing:
                root.depot.command("updateUser", "mover")
            assert nothing.value.code == 2
            with pytest.raises(OperationFailure) as unknown:
                root.depot.command("grantRolesToUser", "nobody", roles=["read"])
            assert unknown.value.code == 11
            # Dropping the user ends its authentication on connections already open.
            root.depot.command("dropUser", "mover")
            with pytest.raises(OperationFailure) as dropped:
                mover.depot.crates.find_one()
            assert dropped.value.code == 13


def test_scram_sha_256_passwords_are_saslprepped(auth_server):
    with connect(auth_server, "root", "s3cret%3Apw", "SCRAM-SHA-256") as root:
        # RFC 4013's examples: a soft hyphen maps to nothing; U+2168 (Roman nine) is "IX" in NFKC.
        root.admin.command("createUser", "prep", pwd="I\u00adX", roles=[], mechanisms=["SCRAM-SHA-256"])
        for password in ["IX", "\u2168", "I\u00adX"]:
            with MongoClient(auth_server.host, auth_server.port, username="prep", password=password,
                             authSource="admin", authMechanism="SCRAM-SHA-256",
                             serverSelectionTimeoutMS=10000) as user:
                assert user.admin.command("ping")["ok"] == 1
        root.admin.command("dropUser", "prep")


def test_prohibited_characters_are_refused_with_a_clear_error(auth_server):
    with connect(auth_server, "root", "s3cret%3Apw", "SCRAM-SHA-256") as root:
        with pytest.raises(OperationFailure) as control:
            root.admin.command("createUser", "bell", pwd="ring\u0007ring", roles=[])
        assert control.value.code == 2
        assert "prohibited character U+0007" in str(control.value)
        with pytest.raises(OperationFailure) as name:
            root.admin.command("createUser", "private\ue000", pwd="fine", roles=[])
        assert name.value.code == 2
        assert "user name" in str(name.value)
        with pytest.raises(OperationFailure) as bidi:
            root.admin.command("createUser", "mixed", pwd="\u0627" + "1", roles=[])
        assert bidi.value.code == 2
        # SCRAM-SHA-1 alone takes the password as given (MongoDB's MD5 digest).
        root.admin.command("createUser", "legacy", pwd="ring\u0007ring", roles=[], mechanisms=["SCRAM-SHA-1"])
        root.admin.command("dropUser", "legacy")
