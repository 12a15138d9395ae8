"""docs/deploy/: the example files the deployment guide ships, checked by the tools that read
them where this machine has them (systemd-analyze, nginx -t, logrotate), and against each other
and the settings everywhere."""

from __future__ import annotations

import configparser
import getpass
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lapor.settings import SETTINGS, Settings
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"
UNITS = ("lapor.service", "lapor-backup.service", "lapor-backup.timer")
LAPOR = Path(sys.executable).parent / "lapor"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


def env_file() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "lapor.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def nginx_site() -> str:
    return (DEPLOY / "nginx.conf").read_text()


def test_the_guide_points_to_every_example_file() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for path in sorted(DEPLOY.iterdir()):
        assert f"(deploy/{path.name})" in guide, path.name


def test_the_settings_file_names_real_settings_that_load() -> None:
    names = {s.name for s in SETTINGS}
    text = (DEPLOY / "lapor.env").read_text()
    for mentioned in re.findall(r"^#?(LAPOR_[A-Z_0-9]+)=", text, flags=re.M):
        assert mentioned in names, mentioned
    settings = Settings.load(environ=env_file(), env_file=None)
    assert settings.https and settings.log_format == "json"


def test_the_unit_runs_as_its_user_with_its_data_directory_and_restarts() -> None:
    service = unit("lapor.service")["Service"]
    assert service["User"] == "lapor" and service["Group"] == "lapor"
    assert service["Environment"] == "LAPOR_DATA_DIR=/var/lib/lapor"
    assert service["StateDirectory"] == "lapor" and service["StateDirectoryMode"] == "0700"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    # systemd waits longer than the stop the settings promise, or SIGKILL cuts it short.
    settings = Settings.load(environ=env_file(), env_file=None)
    promised = settings.drain_seconds + settings.stop_seconds + 10
    assert int(service["TimeoutStopSec"]) > promised
    # Lapor listens on loopback, where nginx sends it requests, and believes nginx alone.
    host, port = re.search(r"--host (\S+) --port (\d+)", service["ExecStart"]).groups()  # type: ignore[union-attr]
    assert f"server {host}:{port};" in nginx_site()
    assert host in settings.forwarded_allow_ips.split(",")


def needs(program: str) -> None:
    """nginx and logrotate: .ci/run installs them, so there a missing one fails the test."""
    if shutil.which(program) is None:
        require_service(f"{program} is not installed (.ci/run installs it)")


# systemd comes with the machine, not with .ci/run: where it is missing there is nothing to
# install it into (a container without an init), so this one is skipped, never failed.
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    for name in UNITS:
        # The installed program's path as this machine has it; the rest as shipped.
        text = (DEPLOY / name).read_text().replace("/opt/lapor/venv/bin/lapor", str(LAPOR))
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", *UNITS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    # verify exits 0 on unknown keys too: any complaint at all fails.
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), (
        done.stdout + done.stderr
    )


def _megabytes(size: str) -> int:
    number, unit_letter = re.fullmatch(r"(\d+)([kKmM]?)", size).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit_letter.lower()]


def test_the_proxy_forwards_the_address_allows_a_report_and_hides_metrics() -> None:
    site = nginx_site()
    settings = Settings.load(environ={}, env_file=None)
    body_limit = settings.max_photos * settings.max_photo_bytes + 1_000_000  # server.py's
    (size,) = re.findall(r"client_max_body_size (\S+);", site)
    assert _megabytes(size) >= body_limit
    assert re.search(r"location = /metrics \{\s*return 404;\s*\}", site)
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "ssl_certificate " in site and "return 301 https://" in site
    # nginx's own access log keeps no path (a private link's holds its secret).
    (log_format,) = re.findall(r"log_format lapor (.*?);", site, flags=re.S)
    assert "$request_uri" not in log_format and "$request " not in log_format
    assert "$uri" not in log_format


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    needs("nginx")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=lapor.example.go.id",
            "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    site = (
        nginx_site()
        .replace("/etc/letsencrypt/live/lapor.example.go.id", str(tmp_path))
        .replace("/var/log/nginx/", f"{tmp_path}/")
    )
    (tmp_path / "lapor.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n    include {tmp_path}/lapor.conf;\n}}\n"
    )
    done = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_logrotate_rotates_a_log_the_server_keeps_open(tmp_path: Path) -> None:
    needs("logrotate")
    log = tmp_path / "lapor.log"
    user = getpass.getuser()
    config = (
        (DEPLOY / "logrotate")
        .read_text()
        .replace("/var/log/lapor/lapor.log", str(log))
        .replace("su lapor lapor", f"su {user} {user}")
    )
    (tmp_path / "lapor.logrotate").write_text(config)
    with open(log, "a") as kept_open:  # as the server's stderr is
        kept_open.write('{"message": "request"}\n' * 100)
        kept_open.flush()
        done = subprocess.run(
            ["logrotate", "-f", "-s", str(tmp_path / "state"), str(tmp_path / "lapor.logrotate")],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        kept_open.write('{"message": "after"}\n')
        kept_open.flush()
    assert (tmp_path / "lapor.log.1").read_text().count("request") == 100
    # Truncated in place, so the open file keeps being the log.
    assert log.read_text().strip().endswith('{"message": "after"}')
    assert "request" not in log.read_text().replace("\x00", "")
