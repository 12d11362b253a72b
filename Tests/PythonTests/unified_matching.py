"""The unified test format's matching rules (mongodb/specifications, unified-test-format,
"Evaluating Matches") and its runOnRequirements, for unified_runner.py.

Extra fields are allowed in root-level documents only (and in each document of a root-level
array); numbers compare by value across int, long, double and decimal; `$$exists`,
`$$unsetOrMatches`, `$$type`, `$$matchesEntity`, `$$matchesHexBytes`, `$$lte`, `$$sessionLsid`.
"""
import datetime
import re
from decimal import Decimal

from bson import Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp


class Unsupported(Exception):
    """The test needs something the runner (or the server) does not do."""


class MatchError(AssertionError):
    pass


# ---------------------------------------------------------------------------------------------
# Requirements


def parse_version(text):
    parts = [int(p) for p in str(text).split(".")]
    return tuple((parts + [0, 0, 0])[:3])


def requirement_met(requirement, server_version, topology):
    """One runOnRequirement against our server; returns None when met, else why not."""
    for key, value in requirement.items():
        if key == "minServerVersion":
            if server_version < parse_version(value):
                return f"minServerVersion {value}"
        elif key == "maxServerVersion":
            if server_version > parse_version(value):
                return f"maxServerVersion {value}"
        elif key == "topologies":
            if topology not in value:
                return f"topologies {value}"
        elif key == "serverless":
            if value == "require":
                return "serverless required"
        elif key == "auth":
            if value:
                return "auth required"
        elif key == "csfle":
            if value:
                return "csfle required"
        else:
            return f"requirement {key} not evaluated"
    return None


def requirements_met(requirements, server_version, topology):
    """runOnRequirements: any one requirement met suffices. Returns None or the reasons."""
    if not requirements:
        return None
    reasons = []
    for requirement in requirements:
        reason = requirement_met(requirement, server_version, topology)
        if reason is None:
            return None
        reasons.append(reason)
    return "; ".join(reasons)


# ---------------------------------------------------------------------------------------------
# Matching


def is_number(value):
    return isinstance(value, (int, float, Int64, Decimal128)) and not isinstance(value, bool)


def number_value(value):
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(int(value))


TYPE_CHECKS = {
    "double": lambda v: isinstance(v, float),
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "binData": lambda v: isinstance(v, (bytes, Binary)),
    "undefined": lambda v: False,
    "objectId": lambda v: isinstance(v, ObjectId),
    "bool": lambda v: isinstance(v, bool),
    "date": lambda v: isinstance(v, datetime.datetime),
    "null": lambda v: v is None,
    "regex": lambda v: isinstance(v, (Regex, re.Pattern)),
    "dbPointer": lambda v: isinstance(v, DBRef),
    "javascript": lambda v: isinstance(v, Code) and v.scope is None,
    "symbol": lambda v: False,
    "javascriptWithScope": lambda v: isinstance(v, Code) and v.scope is not None,
    "int": lambda v: isinstance(v, int) and not isinstance(v, (bool, Int64)) and -2**31 <= v < 2**31,
    "timestamp": lambda v: isinstance(v, Timestamp),
    "long": lambda v: isinstance(v, Int64) or (isinstance(v, int) and not isinstance(v, bool)
                                                and not -2**31 <= v < 2**31),
    "decimal": lambda v: isinstance(v, Decimal128),
    "minKey": lambda v: isinstance(v, MinKey),
    "maxKey": lambda v: isinstance(v, MaxKey),
    "number": lambda v: is_number(v),
}


def special_operator(expected):
    """The `$$name` of a special-operator document ({$$name: argument}), else None."""
    if isinstance(expected, dict) and len(expected) == 1:
        (key,) = expected.keys()
        if key.startswith("$$"):
            return key
    return None


class Matcher:
    def __init__(self, entities):
        self.entities = entities

    def match(self, expected, actual, path="", root=True):
        operator = special_operator(expected)
        if operator is not None:
            return self.operator(operator, expected[operator], actual, path, root)
        if isinstance(expected, dict):
            if not isinstance(actual, dict):
                raise MatchError(f"{path or 'value'}: expected a document {expected!r}, got {actual!r}")
            for key, value in expected.items():
                where = f"{path}.{key}" if path else key
                op = special_operator(value)
                if op == "$$exists":
                    if (key in actual) != bool(value[op]):
                        raise MatchError(f"{where}: expected {'present' if value[op] else 'absent'}, "
                                         f"actual {actual!r}")
                    continue
                if op == "$$unsetOrMatches" and key not in actual:
                    continue
                if key not in actual:
                    raise MatchError(f"{where}: missing in actual {actual!r}")
                self.match(value, actual[key], where, root=False)
            if not root:
                extra = set(actual) - set(expected)
                if extra:
                    raise MatchError(f"{path or 'document'}: unexpected fields {sorted(extra)} in {actual!r}")
            return
        if isinstance(expected, list):
            if not isinstance(actual, (list, tuple)):
                raise MatchError(f"{path or 'value'}: expected an array {expected!r}, got {actual!r}")
            if len(expected) != len(actual):
                raise MatchError(f"{path or 'array'}: expected {len(expected)} elements {expected!r}, "
                                 f"got {len(actual)} {actual!r}")
            for i, (e, a) in enumerate(zip(expected, actual)):
                self.match(e, a, f"{path}.{i}" if path else str(i), root=root)
            return
        if is_number(expected):
            if not is_number(actual) or number_value(expected) != number_value(actual):
                raise MatchError(f"{path or 'value'}: expected {expected!r}, got {actual!r}")
            return
        if expected != actual or type(expected) is bool and type(actual) is not bool:
            raise MatchError(f"{path or 'value'}: expected {expected!r}, got {actual!r}")

    def operator(self, name, argument, actual, path, root):
        if name == "$$unsetOrMatches":
            if actual is None:
                return
            return self.match(argument, actual, path, root)
        if name == "$$type":
            names = argument if isinstance(argument, list) else [argument]
            if not any(TYPE_CHECKS[n](actual) for n in names):
                raise MatchError(f"{path or 'value'}: expected type {names}, got {actual!r}")
            return
        if name == "$$exists":
            # At the top (no parent key): "exists" means a value came back.
            if (actual is not None) != bool(argument):
                raise MatchError(f"{path or 'value'}: $$exists {argument} but got {actual!r}")
            return
        if name == "$$matchesEntity":
            return self.match(self.entities[argument], actual, path, root)
        if name == "$$matchesHexBytes":
            if bytes(actual) != bytes.fromhex(argument):
                raise MatchError(f"{path}: bytes differ")
            return
        if name == "$$lte":
            if not is_number(actual) or number_value(actual) > number_value(argument):
                raise MatchError(f"{path}: expected <= {argument!r}, got {actual!r}")
            return
        if name == "$$sessionLsid":
            session = self.entities[argument]
            return self.match(session.session_id, actual, path, root)
        raise Unsupported(f"special operator {name}")


