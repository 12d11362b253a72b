"""The unified runner itself: its matching rules, and that a wrong expectation fails a test
(a runner that passes everything would prove nothing)."""
import pytest
from bson import Int64, ObjectId

from unified_matching import Matcher, MatchError, requirements_met
from unified_runner import UnifiedRunner


def matches(expected, actual, root=True):
    try:
        Matcher({}).match(expected, actual, root=root)
        return True
    except MatchError:
        return False


def test_numbers_match_by_value_across_types():
    assert matches({"n": 1}, {"n": Int64(1)})
    assert matches({"n": 1.0}, {"n": 1})
    assert not matches({"n": 1}, {"n": 2})
    assert not matches({"n": 1}, {"n": True})
    assert not matches({"n": "1"}, {"n": 1})


def test_extra_fields_are_allowed_only_at_the_root():
    assert matches({"a": 1}, {"a": 1, "b": 2})
    assert not matches({"a": {"x": 1}}, {"a": {"x": 1, "y": 2}})
    assert matches([{"_id": 1}], [{"_id": 1, "x": 2}])
    assert not matches([{"_id": 1}], [{"_id": 1, "x": 2}], root=False)
    assert not matches([{"_id": 1}], [{"_id": 1}, {"_id": 2}])


def test_special_operators():
    assert matches({"id": {"$$unsetOrMatches": 5}}, {})
    assert matches({"id": {"$$unsetOrMatches": 5}}, {"id": 5})
    assert not matches({"id": {"$$unsetOrMatches": 5}}, {"id": 6})
    assert matches({"a": {"$$exists": False}}, {"b": 1})
    assert not matches({"a": {"$$exists": False}}, {"a": 1})
    assert not matches({"a": {"$$exists": True}}, {})
    assert matches({"a": {"$$type": "objectId"}}, {"a": ObjectId()})
    assert matches({"a": {"$$type": ["int", "long"]}}, {"a": Int64(3)})
    assert not matches({"a": {"$$type": "string"}}, {"a": 3})


def test_requirements_are_evaluated_against_our_server():
    assert requirements_met([{"minServerVersion": "4.4"}], (7, 0, 0), "replicaset") is None
    assert requirements_met([{"maxServerVersion": "4.2.99"}], (7, 0, 0), "replicaset") is not None
    assert requirements_met([{"topologies": ["sharded"]}], (7, 0, 0), "replicaset") is not None
    assert requirements_met([{"topologies": ["sharded"]}, {"topologies": ["replicaset"]}], (7, 0, 0), "replicaset") is None
    assert requirements_met([{"serverless": "require"}], (7, 0, 0), "replicaset") is not None


SPEC = {
    "createEntities": [
        {"client": {"id": "client0", "observeEvents": ["commandStartedEvent"]}},
        {"database": {"id": "database0", "client": "client0", "databaseName": "unified-runner-tests"}},
        {"collection": {"id": "collection0", "database": "database0", "collectionName": "coll0"}},
    ],
    "initialData": [{"collectionName": "coll0", "databaseName": "unified-runner-tests",
                     "documents": [{"_id": 1, "x": 11}]}],
}


def good_test():
    return {
        "description": "insertOne",
        "operations": [{"object": "collection0", "name": "insertOne", "arguments": {"document": {"_id": 2, "x": 22}},
                        "expectResult": {"$$unsetOrMatches": {"insertedId": {"$$unsetOrMatches": 2}}}}],
        "expectEvents": [{"client": "client0", "events": [{"commandStartedEvent": {
            "command": {"insert": "coll0", "documents": [{"_id": 2, "x": 22}]},
            "commandName": "insert", "databaseName": "unified-runner-tests"}}]}],
        "outcome": [{"collectionName": "coll0", "databaseName": "unified-runner-tests",
                     "documents": [{"_id": 1, "x": 11}, {"_id": 2, "x": 22}]}],
    }


def test_a_correct_test_passes(server, client):
    UnifiedRunner(server.uri, SPEC, good_test()).run(client)


@pytest.mark.parametrize("mutate", [
    lambda t: t["operations"][0].update(expectResult={"insertedId": 3}),
    lambda t: t["expectEvents"][0]["events"][0]["commandStartedEvent"].update(commandName="update"),
    lambda t: t["expectEvents"][0]["events"].append({"commandStartedEvent": {"commandName": "find"}}),
    lambda t: t["outcome"][0]["documents"].pop(),
    lambda t: t["outcome"][0]["documents"][1].update(y=1),
    lambda t: t["operations"][0].update(expectError={"isClientError": True}),
], ids=["result", "event-name", "missing-event", "outcome-count", "outcome-field", "expected-error"])
def test_a_wrong_expectation_fails(server, client, mutate):
    test = good_test()
    mutate(test)
    with pytest.raises(AssertionError):
        UnifiedRunner(server.uri, SPEC, test).run(client)
