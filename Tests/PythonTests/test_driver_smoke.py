"""A second real driver: the MongoDB C driver (libmongoc-dev from Debian, installed by
Tools/setup) compiles Tests/DriverSmoke/mongoc_smoke.c and runs it against the server."""
import pathlib
import shutil
import subprocess

SOURCE = pathlib.Path(__file__).resolve().parent.parent / "DriverSmoke" / "mongoc_smoke.c"


def build(tmp_path):
    assert shutil.which("gcc") and shutil.which("pkg-config"), "gcc and pkg-config are needed (Tools/setup)"
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmongoc-1.0"], capture_output=True, text=True)
    assert flags.returncode == 0, f"libmongoc-dev is missing (Tools/setup installs it): {flags.stderr}"
    binary = tmp_path / "mongoc_smoke"
    compiled = subprocess.run(["gcc", "-O1", "-o", str(binary), str(SOURCE), *flags.stdout.split()],
                              capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr
    return binary


def test_the_c_driver_runs_crud_and_a_cursor_across_batches(server, tmp_path):
    binary = build(tmp_path)
    for uri in (f"{server.uri}/?directConnection=true", f"{server.uri}/?replicaSet=rs0"):
        run = subprocess.run([str(binary), uri], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, f"{uri}: {run.stderr}"
        assert run.stdout.strip() == "ok"
