"""A small runner for MongoDB's unified test format (the CRUD subset), through pymongo.

Reads a unified test file (mongodb/specifications, source/unified-test-format), creates its
entities, loads its initial data, runs each operation as the matching pymongo call, and checks
results, errors, command events and the collections' final contents with the format's matching
rules (unified_matching.py). Whatever the runner cannot do raises `Unsupported`, so a caller can
tell "not built" from "wrong".
"""
from bson import json_util
from bson.json_util import JSONMode, JSONOptions
from pymongo import (DeleteMany, DeleteOne, InsertOne, MongoClient, ReplaceOne, ReturnDocument, UpdateMany,
                     UpdateOne, monitoring)
from pymongo.client_session import ClientSession
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from unified_matching import Matcher, MatchError, Unsupported

SUPPORTED_SCHEMA_MAJOR = 1

JSON_OPTIONS = JSONOptions(json_mode=JSONMode.CANONICAL, tz_aware=False)

# Commands the spec says runners hide from event assertions.
SENSITIVE_COMMANDS = {"authenticate", "saslstart", "saslcontinue", "getnonce", "createuser", "updateuser",
                      "copydbgetnonce", "copydbsaslstart", "copydb", "hello", "ismaster"}
ALWAYS_IGNORED = {"configurefailpoint"}


def load(path):
    with open(path) as f:
        return json_util.loads(f.read(), json_options=JSON_OPTIONS)


# ---------------------------------------------------------------------------------------------
# Command events


class EventRecorder(monitoring.CommandListener):
    def __init__(self, observe, ignore, observe_sensitive):
        self.observe = set(observe)
        self.ignore = {name.lower() for name in ignore} | ALWAYS_IGNORED
        if not observe_sensitive:
            self.ignore |= SENSITIVE_COMMANDS
        self.events = []

    def _keep(self, kind, event):
        if kind in self.observe and event.command_name.lower() not in self.ignore:
            self.events.append((kind, event))

    def started(self, event):
        self._keep("commandStartedEvent", event)

    def succeeded(self, event):
        self._keep("commandSucceededEvent", event)

    def failed(self, event):
        self._keep("commandFailedEvent", event)


# ---------------------------------------------------------------------------------------------
# The runner


def snake_kwargs(arguments, rename):
    out = {}
    for key, value in arguments.items():
        out[rename.get(key, key)] = value
    return out


def sort_spec(sort):
    return list(sort.items()) if isinstance(sort, dict) else sort


def bulk_result(result):
    return {
        "deletedCount": result.deleted_count,
        "insertedCount": result.inserted_count,
        "matchedCount": result.matched_count,
        "modifiedCount": result.modified_count,
        "upsertedCount": result.upserted_count,
        "upsertedIds": {str(k): v for k, v in (result.upserted_ids or {}).items()},
    }


def bulk_error_result(details):
    return {
        "deletedCount": details.get("nRemoved", 0),
        "insertedCount": details.get("nInserted", 0),
        "matchedCount": details.get("nMatched", 0),
        "modifiedCount": details.get("nModified", 0),
        "upsertedCount": details.get("nUpserted", 0),
        "upsertedIds": {str(u["index"]): u["_id"] for u in details.get("upserted", [])},
    }


def update_result(result):
    out = {"matchedCount": result.matched_count, "modifiedCount": result.modified_count,
           "upsertedCount": 0 if result.upserted_id is None else 1}
    if result.upserted_id is not None:
        out["upsertedId"] = result.upserted_id
    return out


class UnifiedRunner:
    """Runs one test of one unified file against `uri`."""

    def __init__(self, uri, spec, test):
        self.uri = uri
        self.spec = spec
        self.test = test
        self.entities = {}
        self.recorders = {}
        self.clients = []
        self.fail_points = []
        self.matcher = Matcher(self.entities)

    # -- set-up -----------------------------------------------------------------------------

    def new_client(self, **kwargs):
        kwargs.setdefault("serverSelectionTimeoutMS", 10000)
        client = MongoClient(self.uri, **kwargs)
        self.clients.append(client)
        return client

    def create_entities(self):
        for entity in self.spec.get("createEntities", []):
            (kind, options), = entity.items()
            entity_id = options["id"]
            if kind == "client":
                recorder = EventRecorder(options.get("observeEvents", []),
                                         options.get("ignoreCommandMonitoringEvents", []),
                                         options.get("observeSensitiveCommands", False))
                self.recorders[entity_id] = recorder
                unsupported = set(options) - {"id", "observeEvents", "ignoreCommandMonitoringEvents",
                                              "observeSensitiveCommands", "uriOptions", "useMultipleMongoses"}
                if unsupported:
                    raise Unsupported(f"client options {sorted(unsupported)}")
                self.entities[entity_id] = self.new_client(event_listeners=[recorder],
                                                           **options.get("uriOptions", {}))
            elif kind == "database":
                client = self.entities[options["client"]]
                self.entities[entity_id] = client.get_database(options["databaseName"])
            elif kind == "collection":
                database = self.entities[options["database"]]
                self.entities[entity_id] = database.get_collection(options["collectionName"])
            elif kind == "session":
                client = self.entities[options["client"]]
                self.entities[entity_id] = client.start_session(**options.get("sessionOptions", {}))
            else:
                raise Unsupported(f"entity type {kind}")

    def load_initial_data(self, admin):
        for data in self.spec.get("initialData", []):
            database = admin[data["databaseName"]]
            database.drop_collection(data["collectionName"])
            documents = data.get("documents", [])
            if documents:
                database[data["collectionName"]].insert_many(documents)
            else:
                database.create_collection(data["collectionName"])

    # -- operations ---------------------------------------------------------------------------

    def run_operations(self):
        for operation in self.test["operations"]:
            self.run_operation(operation)

    def run_operation(self, operation):
        expect_error = operation.get("expectError")
        try:
            result = self.execute(operation)
        except Unsupported:
            raise
        except Exception as error:  # noqa: BLE001 - any driver error is what expectError checks
            if expect_error is None:
                raise AssertionError(f"operation {operation['name']} failed unexpectedly: {error!r}") from error
            self.check_error(expect_error, error, operation["name"])
            return
        if expect_error is not None:
            raise AssertionError(f"operation {operation['name']} succeeded with {result!r}, expected an error "
                                 f"{expect_error!r}")
        if "expectResult" in operation:
            try:
                self.matcher.match(operation["expectResult"], result)
            except MatchError as error:
                raise AssertionError(f"operation {operation['name']}: {error}") from None
        if "saveResultAsEntity" in operation:
            self.entities[operation["saveResultAsEntity"]] = result

    def check_error(self, expected, error, name):
        server_error = isinstance(error, (OperationFailure,))
        client_error = not server_error
        if "isClientError" in expected and expected["isClientError"] != client_error:
            raise AssertionError(f"{name}: expected isClientError={expected['isClientError']}, got {error!r}")
        if expected.get("isTimeoutError"):
            raise Unsupported("isTimeoutError")
        if "errorContains" in expected and expected["errorContains"].lower() not in str(error).lower():
            raise AssertionError(f"{name}: error {error!r} does not contain {expected['errorContains']!r}")
        if "errorCode" in expected:
            code = getattr(error, "code", None)
            if isinstance(error, BulkWriteError):
                codes = [e.get("code") for e in error.details.get("writeErrors", [])]
                code = codes[0] if codes else code
            if code != expected["errorCode"]:
                raise AssertionError(f"{name}: expected code {expected['errorCode']}, got {code} ({error!r})")
        if "errorCodeName" in expected:
            details = getattr(error, "details", None) or {}
            if details.get("codeName") != expected["errorCodeName"]:
                raise AssertionError(f"{name}: expected codeName {expected['errorCodeName']}, got {details!r}")
        for label in expected.get("errorLabelsContain", []):
            if not (isinstance(error, PyMongoError) and error.has_error_label(label)):
                raise AssertionError(f"{name}: error {error!r} lacks label {label}")
        for label in expected.get("errorLabelsOmit", []):
            if isinstance(error, PyMongoError) and error.has_error_label(label):
                raise AssertionError(f"{name}: error {error!r} has label {label}")
        if "expectResult" in expected:
            if not isinstance(error, BulkWriteError):
                raise AssertionError(f"{name}: expectError.expectResult but {error!r} carries no result")
            try:
                self.matcher.match(expected["expectResult"], bulk_error_result(error.details))
            except MatchError as failure:
                raise AssertionError(f"{name} partial result: {failure}") from None

    def execute(self, operation):
        name = operation["name"]
        target = self.entities.get(operation["object"])
        arguments = dict(operation.get("arguments", {}))
        if "session" in arguments:
            arguments["session"] = self.entities[arguments["session"]]
        if operation["object"] == "testRunner":
            handler = getattr(self, "runner_" + name, None)
            if handler is None:
                raise Unsupported(f"testRunner operation {name}")
            return handler(arguments)
        handler = getattr(self, "op_" + name, None)
        if handler is None:
            raise Unsupported(f"operation {name}")
        return handler(target, arguments)

    COMMON = {"arrayFilters": "array_filters", "batchSize": "batch_size", "returnDocument": "return_document",
              "maxTimeMS": "max_time_ms", "bypassDocumentValidation": "bypass_document_validation",
              "allowDiskUse": "allowDiskUse"}

    def args(self, arguments, allowed, rename=None):
        unknown = set(arguments) - set(allowed)
        if unknown:
            raise Unsupported(f"arguments {sorted(unknown)}")
        names = dict(self.COMMON)
        names.update(rename or {})
        out = snake_kwargs(arguments, names)
        if "sort" in out:
            out["sort"] = sort_spec(out["sort"])
        if "return_document" in out:
            out["return_document"] = (ReturnDocument.AFTER if out["return_document"] == "After"
                                      else ReturnDocument.BEFORE)
        return out

    # Collection operations. Each maps the unified arguments onto pymongo's and returns what
    # the unified format expects as the result.

    def op_insertOne(self, coll, a):
        kw = self.args(a, {"document", "session", "comment", "bypassDocumentValidation"})
        result = coll.insert_one(kw.pop("document"), **kw)
        return {"insertedId": result.inserted_id}

    def op_insertMany(self, coll, a):
        kw = self.args(a, {"documents", "ordered", "session", "comment", "bypassDocumentValidation"})
        result = coll.insert_many(kw.pop("documents"), **kw)
        return {"insertedIds": {str(i): v for i, v in enumerate(result.inserted_ids)}}

    def op_find(self, coll, a):
        kw = self.args(a, {"filter", "sort", "skip", "limit", "batchSize", "projection", "session", "comment",
                           "hint", "collation", "let", "maxTimeMS", "allowDiskUse", "min", "max", "returnKey",
                           "showRecordId", "noCursorTimeout"},
                       {"returnKey": "return_key", "showRecordId": "show_record_id", "allowDiskUse": "allow_disk_use",
                        "noCursorTimeout": "no_cursor_timeout"})
        return list(coll.find(kw.pop("filter", {}), **kw))

    def op_findOne(self, coll, a):
        kw = self.args(a, {"filter", "sort", "skip", "projection", "session", "comment", "hint", "collation",
                           "let", "maxTimeMS"})
        return coll.find_one(kw.pop("filter", {}), **kw)

    def op_aggregate(self, coll, a):
        kw = self.args(a, {"pipeline", "batchSize", "session", "comment", "hint", "collation", "let",
                           "maxTimeMS", "allowDiskUse", "bypassDocumentValidation"},
                       {"batchSize": "batchSize", "maxTimeMS": "maxTimeMS"})
        return list(coll.aggregate(kw.pop("pipeline"), **kw))

    def op_countDocuments(self, coll, a):
        kw = self.args(a, {"filter", "skip", "limit", "session", "comment", "hint", "collation", "maxTimeMS"},
                       {"maxTimeMS": "maxTimeMS"})
        return coll.count_documents(kw.pop("filter", {}), **kw)

    def op_estimatedDocumentCount(self, coll, a):
        kw = self.args(a, {"maxTimeMS", "comment", "session"}, {"maxTimeMS": "maxTimeMS"})
        return coll.estimated_document_count(**kw)

    def op_count(self, coll, a):
        # pymongo 4 dropped Collection.count: send the deprecated `count` command itself.
        kw = self.args(a, {"filter", "skip", "limit", "session", "comment", "collation", "hint", "maxTimeMS"})
        command = {"count": coll.name, "query": kw.pop("filter", {})}
        session = kw.pop("session", None)
        command.update({k: v for k, v in kw.items()})
        return coll.database.command(command, session=session)["n"]

    def op_distinct(self, coll, a):
        kw = self.args(a, {"fieldName", "filter", "session", "comment", "collation", "hint", "maxTimeMS"},
                       {"maxTimeMS": "maxTimeMS"})
        return coll.distinct(kw.pop("fieldName"), kw.pop("filter", {}), **kw)

    UPDATE_ARGS = {"filter", "update", "upsert", "arrayFilters", "session", "comment", "hint", "collation", "let",
                   "bypassDocumentValidation", "sort"}

    def op_updateOne(self, coll, a):
        kw = self.args(a, self.UPDATE_ARGS)
        return update_result(coll.update_one(kw.pop("filter"), kw.pop("update"), **kw))

    def op_updateMany(self, coll, a):
        kw = self.args(a, self.UPDATE_ARGS - {"sort"})
        return update_result(coll.update_many(kw.pop("filter"), kw.pop("update"), **kw))

    def op_replaceOne(self, coll, a):
        kw = self.args(a, {"filter", "replacement", "upsert", "session", "comment", "hint", "collation", "let",
                           "bypassDocumentValidation", "sort"})
        return update_result(coll.replace_one(kw.pop("filter"), kw.pop("replacement"), **kw))

    def op_deleteOne(self, coll, a):
        kw = self.args(a, {"filter", "session", "comment", "hint", "collation", "let"})
        return {"deletedCount": coll.delete_one(kw.pop("filter"), **kw).deleted_count}

    def op_deleteMany(self, coll, a):
        kw = self.args(a, {"filter", "session", "comment", "hint", "collation", "let"})
        return {"deletedCount": coll.delete_many(kw.pop("filter"), **kw).deleted_count}

    FIND_AND_MODIFY_ARGS = {"filter", "sort", "projection", "session", "comment", "hint", "collation", "let",
                            "maxTimeMS"}

    def op_findOneAndUpdate(self, coll, a):
        kw = self.args(a, self.FIND_AND_MODIFY_ARGS | {"update", "upsert", "returnDocument", "arrayFilters",
                                                       "bypassDocumentValidation"}, {"maxTimeMS": "maxTimeMS"})
        return coll.find_one_and_update(kw.pop("filter"), kw.pop("update"), **kw)

    def op_findOneAndReplace(self, coll, a):
        kw = self.args(a, self.FIND_AND_MODIFY_ARGS | {"replacement", "upsert", "returnDocument",
                                                       "bypassDocumentValidation"}, {"maxTimeMS": "maxTimeMS"})
        return coll.find_one_and_replace(kw.pop("filter"), kw.pop("replacement"), **kw)

    def op_findOneAndDelete(self, coll, a):
        kw = self.args(a, self.FIND_AND_MODIFY_ARGS, {"maxTimeMS": "maxTimeMS"})
        return coll.find_one_and_delete(kw.pop("filter"), **kw)

    def op_bulkWrite(self, coll, a):
        kw = self.args(a, {"requests", "ordered", "session", "comment", "let", "bypassDocumentValidation"})
        requests = [self.write_model(request) for request in kw.pop("requests")]
        return bulk_result(coll.bulk_write(requests, **kw))

    def write_model(self, request):
        (kind, a), = request.items()
        if kind == "insertOne":
            return InsertOne(a["document"])
        if kind in ("updateOne", "updateMany"):
            kw = self.args(a, {"filter", "update", "upsert", "arrayFilters", "hint", "collation", "sort"})
            model = UpdateOne if kind == "updateOne" else UpdateMany
            return model(kw.pop("filter"), kw.pop("update"), **kw)
        if kind == "replaceOne":
            kw = self.args(a, {"filter", "replacement", "upsert", "hint", "collation", "sort"})
            return ReplaceOne(kw.pop("filter"), kw.pop("replacement"), **kw)
        if kind in ("deleteOne", "deleteMany"):
            kw = self.args(a, {"filter", "hint", "collation"})
            model = DeleteOne if kind == "deleteOne" else DeleteMany
            return model(kw.pop("filter"), **kw)
        raise Unsupported(f"bulkWrite model {kind}")

    def op_createIndex(self, coll, a):
        kw = self.args(a, {"keys", "name", "unique", "session", "comment"})
        return coll.create_index(sort_spec(kw.pop("keys")), **kw)

    # Database operations.

    def op_createCollection(self, db, a):
        kw = self.args(a, {"collection", "session", "viewOn", "pipeline"})
        # The spec's drivers send create alone; pymongo's existence check would add a
        # listCollections the expected events don't have.
        db.create_collection(kw.pop("collection"), check_exists=False, **kw)

    def op_dropCollection(self, db, a):
        kw = self.args(a, {"collection", "session"})
        db.drop_collection(kw.pop("collection"), **kw)

    def op_runCommand(self, db, a):
        kw = self.args(a, {"command", "commandName", "session", "readPreference"})
        return db.command(kw["command"], session=kw.get("session"))

    # Test runner operations.

    def runner_failPoint(self, a):
        """Sets a fail point through the named client; run() turns it off at the end."""
        command = a["failPoint"]
        self.entities[a["client"]].admin.command(command)
        self.fail_points.append(command["configureFailPoint"])

    # -- assertions after the operations -------------------------------------------------------

    def check_events(self):
        for expected in self.test.get("expectEvents", []):
            if expected.get("eventType", "command") != "command":
                raise Unsupported(f"eventType {expected['eventType']}")
            recorder = self.recorders[expected["client"]]
            actual = recorder.events
            wanted = expected["events"]
            if expected.get("ignoreExtraEvents"):
                actual = actual[:len(wanted)]
            if len(actual) != len(wanted):
                names = [f"{k}:{e.command_name}" for k, e in actual]
                raise AssertionError(f"client {expected['client']}: expected {len(wanted)} events, got "
                                     f"{len(actual)}: {names}")
            for i, (want, (kind, event)) in enumerate(zip(wanted, actual)):
                (want_kind, fields), = want.items()
                if want_kind != kind:
                    raise AssertionError(f"event {i}: expected {want_kind}, got {kind} {event.command_name}")
                try:
                    self.match_event(fields, kind, event)
                except MatchError as error:
                    raise AssertionError(f"event {i} ({kind} {event.command_name}): {error}") from None

    def match_event(self, fields, kind, event):
        for key, value in fields.items():
            if key == "command":
                self.matcher.match(value, event.command, "command")
            elif key == "reply":
                self.matcher.match(value, event.reply, "reply")
            elif key == "commandName":
                self.matcher.match(value, event.command_name, "commandName")
            elif key == "databaseName":
                self.matcher.match(value, event.database_name, "databaseName")
            elif key == "hasServiceId" or key == "hasServerConnectionId":
                continue
            else:
                raise Unsupported(f"event field {key}")

    def check_outcome(self, admin):
        for data in self.test.get("outcome", []):
            collection = admin[data["databaseName"]][data["collectionName"]]
            actual = list(collection.find({}, sort=[("_id", 1)]))
            try:
                self.matcher.match(data["documents"], actual, "outcome", root=False)
            except MatchError as error:
                raise AssertionError(f"outcome of {data['collectionName']}: {error}") from None

    # -- the whole test ---------------------------------------------------------------------------

    def run(self, admin):
        try:
            self.create_entities()
            self.load_initial_data(admin)
            self.run_operations()
            self.check_events()
            self.check_outcome(admin)
        finally:
            for name in self.fail_points:
                admin.admin.command({"configureFailPoint": name, "mode": "off"})
            for entity in self.entities.values():
                if isinstance(entity, ClientSession):
                    entity.end_session()
            for client in self.clients:
                client.close()
