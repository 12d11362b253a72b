"""MongoDB's CRUD unified spec tests, every file, through pymongo against our server.

The corpus lives in ../shared/testdata/mongo-crud-unified/ (relative to the repository root);
a missing corpus is a failure, never a skip. Tests whose runOnRequirements exclude our server
(7.0.0, replica set) are skipped as "not applicable". Tests needing features not built yet are
listed in SKIPS, the one place they are named, with the reason shown in pytest's summary.
"""
import glob
import os

import pytest

from unified_matching import Unsupported, requirements_met
from unified_runner import SUPPORTED_SCHEMA_MAJOR, UnifiedRunner, load

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(os.path.dirname(REPO_ROOT), "shared", "testdata", "mongo-crud-unified")

# "file:test description" -> why it cannot pass yet. Keep this the shortest honest list.
SKIPS = {}


def collect():
    """(id, file, test) for every test of every file; one failing entry when the corpus is missing."""
    files = sorted(glob.glob(os.path.join(CORPUS, "*.json")))
    cases = []
    for path in files:
        spec = load(path)
        if "tests" not in spec:  # the format's JSON schema sits beside the tests
            continue
        name = os.path.basename(path)
        for test in spec["tests"]:
            cases.append(pytest.param(path, spec, test, id=f"{name}:{test['description']}"))
    if not cases:
        cases.append(pytest.param(None, None, None, id="corpus-missing"))
    return cases


@pytest.fixture(scope="module")
def reported(client):
    """(version, topology) as our server reports them: buildInfo's versionArray, hello's setName."""
    version = tuple(client.admin.command("buildInfo")["versionArray"][:3])
    topology = "replicaset" if "setName" in client.admin.command("hello") else "single"
    return version, topology


@pytest.mark.parametrize("path,spec,test", collect())
def test_unified(server, client, reported, path, spec, test):
    assert path is not None, f"unified CRUD corpus missing or empty: {CORPUS}"
    major = int(str(spec["schemaVersion"]).split(".")[0])
    assert major == SUPPORTED_SCHEMA_MAJOR, f"schemaVersion {spec['schemaVersion']} not supported"
    key = f"{os.path.basename(path)}:{test['description']}"
    version, topology = reported
    reason = requirements_met(spec.get("runOnRequirements"), version, topology) or \
        requirements_met(test.get("runOnRequirements"), version, topology)
    if reason:
        version_text = ".".join(map(str, version))
        pytest.skip(f"{key}: not applicable to our server ({version_text}, {topology}): {reason}")
    if key in SKIPS:
        pytest.skip(f"{key}: not built yet: {SKIPS[key]}")
    if "skipReason" in test:
        pytest.skip(f"{key}: skipped by the spec: {test['skipReason']}")
    runner = UnifiedRunner(server.uri, spec, test)
    try:
        runner.run(client)
    except Unsupported as error:
        pytest.fail(f"runner does not support this test ({error}); add it to SKIPS with a reason or build it")


def test_skips_name_real_tests():
    """Every SKIPS entry names a test of the corpus (a stale entry would hide nothing)."""
    known = {param.id for param in collect()}
    stale = [key for key in SKIPS if key not in known]
    assert not stale, f"SKIPS entries naming no test: {stale}"
