"""TLS on the wire port (--tls-cert-file/--tls-key-file) with a self-signed certificate made by
the openssl CLI at test time."""
import shutil
import subprocess

import pytest
from pymongo import MongoClient
from pymongo.errors import ServerSelectionTimeoutError

from conftest import ServerProcess


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("tls")
    assert shutil.which("openssl"), "the openssl CLI is needed (Tools/setup installs it)"
    cert, key = root / "cert.pem", root / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    process = ServerProcess(root / "data", root / "server.log",
                            ["--tls-cert-file", str(cert), "--tls-key-file", str(key)]).start()
    yield process, cert
    assert process.stop() == 0


def test_a_tls_client_that_trusts_the_certificate_works(tls_server):
    server, cert = tls_server
    with MongoClient(server.uri, tls=True, tlsCAFile=str(cert), serverSelectionTimeoutMS=10000) as client:
        client.t.items.insert_one({"_id": "over tls"})
        assert client.t.items.find_one() == {"_id": "over tls"}


def test_a_plain_client_cannot_talk_to_a_tls_port(tls_server):
    server, _ = tls_server
    with MongoClient(server.uri, serverSelectionTimeoutMS=1500) as client:
        with pytest.raises(ServerSelectionTimeoutError):
            client.admin.command("ping")


def test_a_client_that_does_not_trust_the_certificate_is_refused(tls_server):
    server, _ = tls_server
    with MongoClient(server.uri, tls=True, serverSelectionTimeoutMS=1500) as client:
        with pytest.raises(ServerSelectionTimeoutError):
            client.admin.command("ping")
