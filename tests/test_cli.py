"""The operator commands as operators' scripts use them: real processes, exit codes, last lines."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.pdf import page_texts, pdf_info, pdf_pages, pdf_text

ROOT = Path(__file__).resolve().parent.parent
Run = Callable[..., subprocess.CompletedProcess[str]]


def runner(data_dir: Path, **settings: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(LAPOR_DATA_DIR=str(data_dir), LAPOR_BASE_URL="https://lapor.kalselprov.go.id")
    env.update(settings)

    def run(
        *args: str, stdin: str | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "lapor", *args],
            cwd=data_dir.parent,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


@pytest.fixture
def lapor(tmp_path: Path) -> Run:
    return runner(tmp_path / "data")


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with one unit and one poster, made once and copied for each test."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    run = runner(data_dir)
    run("unit", "add", "kalsel", "--name", "Provinsi")
    run("poster", "add", "kalsel", "--label", "Loket")
    run("user", "add", "koor@kalsel.go.id", "--role", "coordinator", "--unit", "kalsel")
    return data_dir


def snapshot(data_dir: Path) -> list[object]:
    with sqlite3.connect(data_dir / "lapor.db") as conn:
        return [
            conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("units", "users", "posters", "widgets", "reports")
        ]


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_organisation_users_and_posters(lapor: Run, tmp_path: Path) -> None:
    lapor("unit", "add", "kalsel", "--name", "Provinsi Kalimantan Selatan")
    lapor("unit", "add", "dukcapil", "--name", "Disdukcapil", "--parent", "kalsel")
    listing = lapor("unit", "list").stdout
    assert "kalsel" in listing and "  dukcapil" in listing
    added = lapor(
        "user", "add", "koor@kalselprov.go.id", "--role", "coordinator", "--unit", "kalsel"
    ).stdout
    assert "password (shown once):" in added
    lapor(
        "user",
        "add",
        "insp@kalselprov.go.id",
        "--role",
        "inspector",
        "--unit",
        "kalsel",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    # A person gets a name, then moves: what is not given stays as it was.
    named = lapor("user", "edit", "insp@kalselprov.go.id", "--name", "Rina  Wulandari").stdout
    assert "Rina Wulandari, inspector of kalsel" in named
    moved = lapor(
        "user", "edit", "insp@kalselprov.go.id", "--role", "officer", "--unit", "dukcapil"
    )
    assert "Rina Wulandari, officer of dukcapil" in moved.stdout
    assert "insp@kalselprov.go.id\tofficer\tdukcapil\tactive\tRina Wulandari" in (
        lapor("user", "list").stdout
    )
    poster = lapor("poster", "add", "dukcapil", "--label", "Loket 3 – Perekaman KTP").stdout
    url = poster.strip().splitlines()[-1]
    assert url.startswith("https://lapor.kalselprov.go.id/q/")
    assert url in lapor("poster", "list", "--unit", "dukcapil").stdout

    png = tmp_path / "poster.png"
    lapor("poster", "print", "1", "--format", "png", "--out", str(png))
    [barcode] = zxingcpp.read_barcodes(Image.open(png))
    # Uppercased, all of it in the QR code's alphanumeric mode; the server reads it in any case.
    assert barcode.text == url.upper()
    # zxingcpp's stub types Barcode.extra as `object`; it is the dict its docstring describes.
    extra: dict[str, object] = barcode.extra  # type: ignore[assignment]
    # A small QR version is what a cheap phone camera reads from across a counter: behind a
    # 30-character base URL, version 3 at error correction M.
    assert int(str(extra["Version"])) == 3 and barcode.ec_level == "M", extra
    for fmt, pages in (("pdf", 1), ("a4", 1), ("a5", 1), ("tent", 1)):
        pdf = tmp_path / f"poster-{fmt}.pdf"
        lapor("poster", "print", "1", "--format", fmt, "--out", str(pdf))
        assert len(pdf_pages(pdf.read_bytes())) == pages
    text = pdf_text((tmp_path / "poster-a4.pdf").read_bytes())
    assert "Loket 3 – Perekaman KTP" in text
    # The organisation is the top of the unit's tree, also the PDF's author.
    assert "Dikelola oleh Provinsi Kalimantan Selatan" in text
    assert pdf_info((tmp_path / "poster-a4.pdf").read_bytes(), "Author") == (
        "Provinsi Kalimantan Selatan"
    )
    svg = tmp_path / "poster.svg"
    lapor("poster", "print", "1", "--format", "svg", "--out", str(svg))
    assert b"<svg" in svg.read_bytes()

    edited = lapor("poster", "edit", "1", "--label", "Loket 4 – Akta").stdout
    assert "Loket 4 – Akta" in edited
    assert lapor("poster", "list").stdout.count("Loket 4 – Akta") == 1
    assert url in lapor("poster", "list").stdout  # the code, and so every print, stays

    revoked = lapor("poster", "revoke", "1").stdout.strip().splitlines()[-1]
    assert revoked != url and revoked.startswith("https://lapor.kalselprov.go.id/q/")


def test_every_poster_of_a_unit_and_its_sub_units_in_one_pdf(lapor: Run, tmp_path: Path) -> None:
    lapor("unit", "add", "kalsel", "--name", "Provinsi Kalimantan Selatan")
    lapor("unit", "add", "dukcapil", "--name", "Disdukcapil", "--parent", "kalsel")
    lapor("unit", "add", "dukcapil-utara", "--name", "UPT Utara", "--parent", "dukcapil")
    lapor("unit", "add", "rsud", "--name", "RSUD Ulin", "--parent", "kalsel")
    for unit, label in (
        ("dukcapil", "Loket 1"),
        ("rsud", "IGD"),
        ("dukcapil-utara", "Loket Utara"),
        ("dukcapil", "Loket 2"),
    ):
        lapor("poster", "add", unit, "--label", label)
    out = tmp_path / "dukcapil.pdf"
    printed = lapor("poster", "print", "--unit", "dukcapil", "--format", "a5", "--out", str(out))
    assert printed.stdout.startswith(f"3 posters of dukcapil and its sub-units written to {out}")
    pdf = out.read_bytes()
    assert len(pdf_pages(pdf)) == 3
    # One page per counter, the unit's own first, then its sub-units', never the sibling's.
    labels = [
        next(x for x in ("Loket 1", "Loket 2", "Loket Utara") if x in page.splitlines())
        for page in page_texts(pdf)
    ]
    assert labels == ["Loket 1", "Loket 2", "Loket Utara"]
    assert "IGD" not in pdf_text(pdf)
    everything = tmp_path / "all.pdf"
    lapor("poster", "print", "--unit", "kalsel", "--out", str(everything))  # A4 by default
    assert len(pdf_pages(everything.read_bytes())) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (("poster", "print", "--out", "x.pdf"), "name one poster"),
        (("poster", "print", "1", "--unit", "kalsel", "--out", "x.pdf"), "name one poster"),
        (("poster", "print", "--unit", "ghost", "--out", "x.pdf"), "unknown unit"),
        (("poster", "print", "--unit", "kalsel", "--format", "png", "--out", "x.png"), "a4, a5"),
        (("poster", "print", "--unit", "empty", "--out", "x.pdf"), "have no posters"),
    ],
)
def test_printing_all_posters_refuses_clearly(
    seeded_template: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_template, data_dir)
    lapor = runner(data_dir)
    lapor("unit", "add", "empty", "--name", "Kosong")
    before = snapshot(data_dir)
    assert message in refused(lapor(*args, ok=False))
    assert snapshot(data_dir) == before
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (("unit", "add", "Bad Slug!", "--name", "X"), None, "bad slug"),
        (("unit", "add", "child", "--name", "X", "--parent", "ghost"), None, "unknown unit"),
        (("user", "add", "not-an-email", "--role", "admin", "--unit", "kalsel"), None, "e-mail"),
        (("user", "add", "a@b.go.id", "--role", "admin", "--unit", "ghost"), None, "unknown unit"),
        (
            ("user", "add", "a@b.go.id", "--role", "king", "--unit", "kalsel"),
            None,
            "invalid choice",
        ),
        (
            ("user", "add", "a@b.go.id", "--role", "admin", "--unit", "kalsel", "--password-stdin"),
            "short\n",
            "at least",
        ),
        (("user", "edit", "ghost@kalsel.go.id", "--role", "officer"), None, "no account"),
        (("user", "edit", "koor@kalsel.go.id", "--unit", "ghost"), None, "unknown unit"),
        (("user", "edit", "koor@kalsel.go.id", "--name", "x" * 121), None, "at most 120"),
        (("user", "edit", "koor@kalsel.go.id", "--role", "king"), None, "invalid choice"),
        (("poster", "add", "ghost", "--label", "X"), None, "unknown unit"),
        (("poster", "revoke", "99"), None, "no poster"),
        (("poster", "print", "99", "--format", "png", "--out", "x.png"), None, "no poster"),
        (("poster", "print", "1", "--format", "gif", "--out", "x.gif"), None, "invalid choice"),
        (("widget", "add", "ghost", "--origin", "https://a.go.id"), None, "unknown unit"),
        (("widget", "add", "kalsel"), None, "--origin"),
        (("widget", "add", "kalsel", "--origin", "javascript:alert(1)"), None, "https://"),
        (
            (
                "widget",
                "add",
                "kalsel",
                "--origin",
                "https://a.go.id",
                "--origin",
                "https://a.go.id/x",
            ),
            None,
            "no path",
        ),
        (("widget", "add", "kalsel", "--origin", "https://*.go.id"), None, "wildcard"),
        (("widget", "add", "kalsel", "--origin", "https://a.go.id:99999"), None, "port"),
        (("widget", "revoke", "99"), None, "no widget"),
        (("widget", "edit", "99", "--origin", "https://a.go.id"), None, "no widget"),
        (("widget", "edit", "1", "--origin", "ftp://a.go.id"), None, "https://"),
        (("poster", "edit", "99", "--label", "X"), None, "no poster"),
        (("poster", "edit", "1", "--label", " "), None, "1 to 200"),
        (("api-key", "add", "  "), None, "client's name"),
        (("api-key", "add", "x" * 121), None, "client's name"),
        (("api-key", "revoke", "99"), None, "no API key"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    seeded_template: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    stdin: str | None,
    message: str,
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_template, data_dir)
    before = snapshot(data_dir)
    line = refused(runner(data_dir)(*args, stdin=stdin, ok=False))
    assert message in line
    assert snapshot(data_dir) == before


def test_duplicates_are_refused(lapor: Run) -> None:
    lapor("unit", "add", "kalsel", "--name", "Provinsi")
    assert "already exists" in refused(lapor("unit", "add", "kalsel", "--name", "Lagi", ok=False))
    lapor("user", "add", "a@b.go.id", "--role", "admin", "--unit", "kalsel")
    assert "already exists" in refused(
        lapor("user", "add", "A@B.go.id", "--role", "officer", "--unit", "kalsel", ok=False)
    )


def test_bad_setting_is_one_line(lapor: Run) -> None:
    env_run = lapor
    result = subprocess.run(
        [sys.executable, "-m", "lapor", "migrate"],
        env={**os.environ, "LAPOR_TIMEZONE": "Mars/Olympus"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "LAPOR_TIMEZONE" in refused(result)
    assert env_run("migrate").stdout.strip() == "database is up to date"


def test_secret_key_is_generated_once_with_private_mode(lapor: Run, tmp_path: Path) -> None:
    lapor("unit", "add", "kalsel", "--name", "Provinsi")
    first = lapor("poster", "add", "kalsel", "--label", "A").stdout.splitlines()[-1]
    key = tmp_path / "data" / "secret.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert first in lapor("poster", "list").stdout  # same key on the next run


def test_api_key_add_prints_the_key_last_list_and_revoke(lapor: Run, tmp_path: Path) -> None:
    from lapor.complaints import open311 as rules

    added = lapor("api-key", "add", "FixMyStreet Banjarmasin").stdout.strip().splitlines()
    assert added[0].startswith("API key 1 added for FixMyStreet Banjarmasin")
    key = added[-1]
    assert key.startswith(rules.KEY_PREFIX) and len(key) > 40
    # Only the hash is kept: the key itself is nowhere in the database.
    with sqlite3.connect(tmp_path / "data" / "lapor.db") as conn:
        [(stored,)] = conn.execute("SELECT key_hash FROM api_keys").fetchall()
    assert stored == rules.api_key_hash(key)
    assert lapor("api-key", "list").stdout == "1\tactive\t-\tFixMyStreet Banjarmasin\n"
    assert "revoked" in lapor("api-key", "revoke", "1").stdout
    assert lapor("api-key", "list").stdout.startswith("1\trevoked\t")
    assert "already revoked" in refused(lapor("api-key", "revoke", "1", ok=False))


def test_widget_add_prints_the_snippet_last_list_and_revoke(lapor: Run) -> None:
    lapor("unit", "add", "dinkes", "--name", "Dinas Kesehatan")
    out = (
        lapor(
            "widget",
            "add",
            "dinkes",
            "--origin",
            "HTTPS://Dinkes.Example.go.id/",
            "--origin",
            "http://dinkes.example.go.id:8080",
        )
        .stdout.strip()
        .splitlines()
    )
    assert out[0] == (
        "widget 1 added for dinkes: https://dinkes.example.go.id http://dinkes.example.go.id:8080"
    )
    # The last line is the snippet (a contract with scripts), the one before it the form for
    # hosts that strip data-* attributes; the CSP lines are printed too.
    tag, url_tag = out[-1], out[-3]
    assert tag.startswith(
        '<script async src="https://lapor.kalselprov.go.id/widget.js" data-key="1-1.'
    )
    assert tag.endswith('" data-cfasync="false"></script>')
    key = tag.split('data-key="')[1].split('"')[0]
    assert url_tag == (
        f'<script async src="https://lapor.kalselprov.go.id/widget.js?key={key}" '
        'data-cfasync="false"></script>'
    )
    assert (
        "script-src https://lapor.kalselprov.go.id; frame-src https://lapor.kalselprov.go.id; "
        "connect-src https://lapor.kalselprov.go.id" in "\n".join(out)
    )
    listed = lapor("widget", "list").stdout.strip().splitlines()
    assert listed == [
        f"1\tdinkes\tactive\thttps://dinkes.example.go.id http://dinkes.example.go.id:8080\t{key}"
    ]
    # The agency moved its site: the same snippet now runs there.
    moved = lapor("widget", "edit", "1", "--origin", "https://dinkes.kalselprov.go.id").stdout
    assert "https://dinkes.kalselprov.go.id" in moved
    assert lapor("widget", "list").stdout.strip() == (
        f"1\tdinkes\tactive\thttps://dinkes.kalselprov.go.id\t{key}"
    )
    assert "revoked" in lapor("widget", "revoke", "1").stdout
    assert "\trevoked\t" in lapor("widget", "list").stdout
    assert "already revoked" in refused(lapor("widget", "revoke", "1", ok=False))
    assert refused(lapor("widget", "edit", "1", "--origin", "https://a.go.id", ok=False))


def test_commands_print_the_base_url_of_the_server_that_runs(tmp_path: Path) -> None:
    """`lapor serve --port 8765` without LAPOR_BASE_URL, then `poster list`: the poster printed
    must open that server, not the default address (a printed poster cannot be fixed)."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env["LAPOR_DATA_DIR"] = str(data_dir)

    def lapor(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "lapor", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    lapor("unit", "add", "kalsel", "--name", "Provinsi")
    lapor("poster", "add", "kalsel", "--label", "Loket")
    assert "http://127.0.0.1:8000/q/" in lapor("poster", "list")
    server = subprocess.Popen(
        [sys.executable, "-m", "lapor", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        listed = lapor("poster", "list")
        assert f"http://127.0.0.1:{port}/q/" in listed
        code = listed.split("/q/")[1].split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/q/{code}", timeout=5) as form:
            assert form.status == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"point at http://127.0.0.1:{port}" in output
    # An explicit setting still wins over what the last server used.
    env["LAPOR_BASE_URL"] = "https://lapor.kalselprov.go.id"
    assert "https://lapor.kalselprov.go.id/q/" in lapor("poster", "list")


def test_unit_sms_word_and_kannel_config(tmp_path: Path) -> None:
    lapor = runner(tmp_path / "data")
    lapor("unit", "add", "kalsel", "--name", "Provinsi")
    lapor("unit", "add", "dukcapil", "--name", "Disdukcapil", "--parent", "kalsel")
    assert "SMS word DISDUKCAPIL" in lapor("unit", "sms-word", "dukcapil", "Disdukcapil").stdout
    assert "sms=DISDUKCAPIL" in lapor("unit", "list").stdout
    assert "already names unit" in refused(
        lapor("unit", "sms-word", "kalsel", "DISDUKCAPIL", ok=False)
    )
    assert "bad SMS word" in refused(lapor("unit", "sms-word", "kalsel", "anonim", ok=False))
    assert "(none)" in lapor("unit", "sms-word", "dukcapil").stdout
    assert "dukcapil sends every" in lapor("unit", "national", "dukcapil", "on").stdout
    assert "national=on" in lapor("unit", "list").stdout
    assert "does not send" in lapor("unit", "national", "dukcapil", "off").stdout
    assert "national=on" not in lapor("unit", "list").stdout
    assert "unknown unit" in refused(lapor("unit", "national", "nope", "on", ok=False))
    config = lapor("sms", "kannel-config")
    # Without a secret it still prints, and says SMS is off.
    assert "SMS is off" in config.stderr
    assert "group = sms-service" in config.stdout and "max-messages = 0" in config.stdout
    assert 'get-url = "https://lapor.kalselprov.go.id/channels/sms?secret=' in config.stdout
    assert "%p" in config.stdout and "%I" in config.stdout
    assert "group = sendsms-user" in config.stdout


def test_whatsapp_setup_says_what_to_enter_at_meta(lapor: Run) -> None:
    off = lapor("whatsapp", "setup").stdout
    assert "Callback URL:  https://lapor.kalselprov.go.id/channels/whatsapp" in off
    assert "subscribe to `messages`" in off and "{{1}}" in off and "{{2}}" in off
    assert "LAPOR_WHATSAPP_APP_SECRET = (EMPTY" in off and "WhatsApp is OFF" in off


def test_serve_refuses_a_schema_newer_than_this_release(lapor: Run, tmp_path: Path) -> None:
    """A newer release on another machine migrated the database: this one says so in one line
    and does not start, rather than serve from tables it does not know."""
    lapor("migrate")
    with sqlite3.connect(tmp_path / "data" / "lapor.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    refused = lapor("serve", "--port", "9", ok=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith("lapor: error: the database's schema is at revision 0999")
    assert len(refused.stderr.strip().splitlines()) == 1


def test_photos_kept_as_files_are_imported_into_the_database(lapor: Run, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lapor("migrate")
    name = "ab" + "0" * 30 + ".jpg"
    shard = data_dir / "photos" / "ab"
    shard.mkdir(parents=True)
    (shard / name).write_bytes(b"\xff\xd8 a photo kept before \xff\xd9")
    # Kept in the data directory (SQLite's default): nothing to copy into.
    assert "data directory" in refused(lapor("photos", "import", ok=False))
    moved = runner(data_dir, LAPOR_PHOTO_STORAGE="database")
    first = moved("photos", "import").stdout.strip()
    again = moved("photos", "import").stdout.strip()
    assert first.startswith("copied 1 photo(s)") and first.endswith("0 were in it already")
    assert again.startswith("copied 0 photo(s)") and again.endswith("1 were in it already")
    with sqlite3.connect(data_dir / "lapor.db") as conn:
        rows = conn.execute("SELECT name, kept, data FROM photo_blobs").fetchall()
    assert rows == [(name, 1, b"\xff\xd8 a photo kept before \xff\xd9")]
