"""`osmanthus serve` settings from --config files and OSMANTHUS_* variables; flags win."""
import os

import pytest

from conftest import ServerProcess


def set_name(process):
    with process.client() as client:
        return client.admin.command("hello")["setName"]


@pytest.fixture
def environment():
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


def test_a_config_file_sets_options(tmp_path):
    config = tmp_path / "osmanthus.conf"
    config.write_text("# settings\nreplica-set = fromfile   # the set name\n\nlog-level = warning\n")
    process = ServerProcess(tmp_path / "data", tmp_path / "log", ["--config", str(config)]).start()
    try:
        assert set_name(process) == "fromfile"
    finally:
        assert process.stop() == 0


def test_environment_beats_the_file_and_flags_beat_both(tmp_path, environment):
    config = tmp_path / "osmanthus.conf"
    config.write_text("replica-set = fromfile\n")
    environment["OSMANTHUS_REPLICA_SET"] = "fromenv"
    process = ServerProcess(tmp_path / "data", tmp_path / "log", ["--config", str(config)]).start()
    try:
        assert set_name(process) == "fromenv"
    finally:
        assert process.stop() == 0
    process = ServerProcess(tmp_path / "data", tmp_path / "log2",
                            ["--config", str(config), "--replica-set", "fromflag"]).start()
    try:
        assert set_name(process) == "fromflag"
    finally:
        assert process.stop() == 0


def test_an_unknown_setting_is_refused(tmp_path):
    config = tmp_path / "osmanthus.conf"
    config.write_text("colour = blue\n")
    process = ServerProcess(tmp_path / "data", tmp_path / "log", ["--config", str(config)])
    with pytest.raises(RuntimeError):
        process.start()
    assert process.process.returncode != 0
    assert "unknown setting 'colour'" in process.read_log()
