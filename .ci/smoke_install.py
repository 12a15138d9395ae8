"""Install the built wheel as an operator would and check that it serves, far from the checkout.

Builds the wheel, installs it with pip into a fresh venv and with pipx, both in a temporary
directory outside the clone, runs `lapor migrate` and `lapor poster print` (pip's) and `lapor
serve --demo` (pipx's) from another temporary directory, then fetches a poster form, the
stylesheet it inlines, /widget.js and /kiosk, and looks for Indonesian sentences from the catalogs.
Standard library only: it runs before any venv.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers.get("content-type", ""), answer.read().decode()


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"smoke: {what}")
    print(f"smoke: ok: {what}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lapor-wheel-") as scratch:
        scratch_dir = Path(scratch)
        wheels = scratch_dir / "wheels"
        # setuptools copies into build/ and zips what it finds there: a module removed since
        # the last build would still be in the wheel.
        shutil.rmtree(ROOT / "build", ignore_errors=True)
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "-q",
                    "--no-deps",
                    "-w",
                    str(wheels),
                    str(ROOT),
                ],
                check=True,
            )
        finally:
            # Nor may it stay behind for the suite's walks over the tree to read twice.
            shutil.rmtree(ROOT / "build", ignore_errors=True)
        (wheel,) = wheels.glob("lapor_frontdoor-*.whl")
        # Two ways an operator installs it: pip into a venv (the commands below), and pipx
        # (the server).
        venv = scratch_dir / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel), "pipx"], check=True)
        lapor = str(venv / "bin" / "lapor")
        pipx_env = {
            **os.environ,
            "PIPX_HOME": str(scratch_dir / "pipx"),
            "PIPX_BIN_DIR": str(scratch_dir / "bin"),
        }
        subprocess.run(
            [str(venv / "bin" / "pipx"), "install", "--quiet", str(wheel)], env=pipx_env, check=True
        )
        pipx_lapor = str(scratch_dir / "bin" / "lapor")
        work = scratch_dir / "elsewhere"
        work.mkdir()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
        env.update(LAPOR_DATA_DIR=str(work / "data"), LAPOR_BASE_URL=base)

        def cli(*args: str) -> str:
            done = subprocess.run(
                [lapor, *args], cwd=work, env=env, capture_output=True, text=True, timeout=120
            )
            expect(done.returncode == 0, f"`lapor {' '.join(args)}` exits 0 ({done.stderr})")
            return done.stdout

        cli("migrate")
        cli("unit", "add", "prov", "--name", "Pemerintah Provinsi")
        poster_id = cli("poster", "add", "prov", "--label", "Loket 1").split()[1]
        cli("poster", "print", poster_id, "--format", "pdf", "--out", str(work / "p.pdf"))
        expect((work / "p.pdf").read_bytes().startswith(b"%PDF"), "the poster prints as a PDF")

        log_path = work / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [pipx_lapor, "serve", "--demo", "--port", str(port)],
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                try:
                    if fetch(f"{base}/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        "smoke: the server did not start:\n"
                        + log_path.read_text(errors="replace")[-4000:]
                    )
                time.sleep(0.3)
            output = log_path.read_text(errors="replace")
            form_url = re.search(rf"{re.escape(base)}/q/\S+", output)
            expect(form_url is not None, "serve --demo prints a poster form's URL")
            assert form_url is not None
            status, _, form = fetch(form_url[0])
            expect(status == 200 and 'name="token"' in form, "the poster form renders")
            expect("Apa yang terjadi?" in form, "the form speaks Indonesian from the catalog")
            # The citizen's pages carry their stylesheet inline (one round trip on 2G); the
            # file itself is still served under /static for everything else that links it.
            inline = re.search(r"<style>(.*?)</style>", form, re.S)
            expect(inline is not None and "{" in inline[1], "the form carries its stylesheet")
            assert inline is not None
            status, kind, css = fetch(f"{base}/static/citizen.css")
            expect(
                status == 200 and kind.startswith("text/css") and css == inline[1],
                "the stylesheet is served, the same text the form inlines",
            )
            status, kind, script = fetch(f"{base}/widget.js")
            expect(
                status == 200 and "javascript" in kind and "Sampaikan pengaduan" in script,
                "/widget.js is served with its Indonesian strings",
            )
            status, _, shell = fetch(f"{base}/kiosk")
            expect(status == 200 and "kiosk" in shell, "/kiosk serves the kiosk app")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
