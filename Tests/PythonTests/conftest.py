"""pytest fixtures: run the built `osmanthus serve` and connect pymongo to it.

OSMANTHUS_BIN must name the built binary (Tools/test passes it):
    OSMANTHUS_BIN=$(swift build --show-bin-path)/osmanthus python3 -m pytest -q Tests/PythonTests
"""
import os
import re
import signal
import subprocess
import threading
import time

import pytest
from pymongo import MongoClient

LISTENING = re.compile(r"listening on (\S+):(\d+)")
HTTP = re.compile(r"http on (\S+):(\d+)")
START_TIMEOUT = 60


def pytest_sessionstart(session):
    path = os.environ.get("OSMANTHUS_BIN")
    if not path:
        pytest.exit("OSMANTHUS_BIN is not set: point it at the built osmanthus binary "
                    "(OSMANTHUS_BIN=$(swift build --show-bin-path)/osmanthus)", returncode=2)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.exit(f"OSMANTHUS_BIN={path} is not an executable file (build it with swift build)", returncode=2)


class ServerProcess:
    """One `osmanthus serve` child on port 0, its data in `data_dir`, its log in `log_path`."""

    def __init__(self, data_dir, log_path, extra_args=()):
        self.data_dir = str(data_dir)
        self.log_path = str(log_path)
        self.extra_args = list(extra_args)
        self.process = None
        self.host = None
        self.port = None
        self.http_port = None

    def start(self):
        binary = os.environ["OSMANTHUS_BIN"]
        self.log = open(self.log_path, "ab")
        # No HTTP port unless a test asks for one: servers of concurrent tests would collide.
        http = [] if "--http-port" in self.extra_args else ["--http-port", "0"]
        self.process = subprocess.Popen(
            [binary, "serve", "--data-dir", self.data_dir, "--port", "0", "--bind", "127.0.0.1", *http,
             *self.extra_args],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        found = {}

        def read_stdout():
            for raw in self.process.stdout:
                http = HTTP.search(raw.decode(errors="replace"))
                if http:
                    found["http"] = int(http.group(2))
                match = LISTENING.search(raw.decode(errors="replace"))
                if match and "address" not in found:
                    found["address"] = (match.group(1), int(match.group(2)))
                    ready.set()
            ready.set()

        ready = threading.Event()
        threading.Thread(target=read_stdout, daemon=True).start()
        if not ready.wait(START_TIMEOUT) or "address" not in found:
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"osmanthus serve did not print 'listening on' within {START_TIMEOUT}s; "
                               f"exit code {self.process.returncode}; log:\n{self.read_log()}")
        self.host, self.port = found["address"]
        self.http_port = found.get("http")
        return self

    def stop(self, timeout=30):
        """SIGTERM, then wait; returns the exit code (kills the process after `timeout`)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"osmanthus serve ignored SIGTERM for {timeout}s; log:\n{self.read_log()}")
        finally:
            self.log.close()

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def uri(self):
        return f"mongodb://{self.host}:{self.port}"

    def client(self, options="", **kwargs):
        kwargs.setdefault("serverSelectionTimeoutMS", 10000)
        return MongoClient(self.uri + "/" + options, **kwargs)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("osmanthus")
    # Test commands on: the unified spec tests set fail points (configureFailPoint).
    process = ServerProcess(root / "data", root / "server.log", ["--enable-test-commands"]).start()
    yield process
    code = process.stop()
    assert code == 0, f"server exited with {code}; log:\n{process.read_log()}"


@pytest.fixture(scope="session")
def client(server):
    client = server.client()
    yield client
    client.close()


@pytest.fixture
def db(client, request):
    """A database of the test's own, dropped afterwards."""
    name = "t_" + re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:50]
    database = client[name]
    yield database
    try:
        client.drop_database(name)
    except Exception:
        pass


@pytest.fixture
def fresh_server(tmp_path):
    """A server of the test's own (for shutdown and restart tests)."""
    process = ServerProcess(tmp_path / "data", tmp_path / "server.log")
    yield process
    if process.process is not None and process.process.poll() is None:
        process.stop()
