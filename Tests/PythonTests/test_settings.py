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


def event_loop_threads(process):
    """The server's NIO event-loop threads, by their names in /proc (Linux)."""
    task = f"/proc/{process.process.pid}/task"
    names = [open(f"{task}/{tid}/comm").read().strip() for tid in os.listdir(task)]
    return sum(1 for name in names if name.startswith("NIO-ELT-"))


def test_event_loop_threads_come_from_the_setting(tmp_path):
    config = tmp_path / "osmanthus.conf"
    config.write_text("event-loop-threads = 1\n")
    for arguments, expected in [(["--config", str(config)], 1), (["--event-loop-threads", "3"], 3)]:
        process = ServerProcess(tmp_path / "data", tmp_path / f"log{expected}", arguments).start()
        try:
            assert set_name(process) == "rs0"  # serving
            assert event_loop_threads(process) == expected
        finally:
            assert process.stop() == 0


def test_zero_event_loop_threads_is_refused(tmp_path):
    process = ServerProcess(tmp_path / "data", tmp_path / "log", ["--event-loop-threads", "0"])
    with pytest.raises(RuntimeError):
        process.start()
    assert process.process.returncode != 0
    assert "--event-loop-threads must be 1...64" in process.read_log()
