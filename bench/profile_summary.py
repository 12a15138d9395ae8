"""Summarise py-spy collapsed stacks (`py-spy record --format raw --threads`, as written by
`bench/load.py --profile DIR`): where the server's threads spent their samples, by thread, by
category of work (inclusive: a sample counts for the first category matched from the leaf up),
and the hottest functions (self time and inclusive).

    python bench/profile_summary.py /tmp/prof/submit.txt [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

# Matched against each frame, leaf first; the first category found names the sample.
# Order matters: "sqlite3 execute inside aiosqlite's thread" is database work, not threading.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("sqlite3 C calls (aiosqlite thread)", ("aiosqlite/core.py",)),
    ("asyncpg", ("asyncpg/",)),
    ("SQLAlchemy compile/construct", ("sqlalchemy/sql/", "sqlalchemy/util/")),
    (
        "SQLAlchemy engine/result",
        (
            "sqlalchemy/engine/",
            "sqlalchemy/ext/asyncio/",
            "sqlalchemy/dialects/",
            "sqlalchemy/pool/",
        ),
    ),
    ("Jinja2 template rendering", ("jinja2/", "templates/", ".html")),
    ("Babel / gettext", ("babel/", "gettext.py")),
    ("signing (itsdangerous, hmac)", ("itsdangerous/", "hmac.py", "web/signing.py")),
    ("form parsing (python-multipart)", ("multipart/", "formparsers.py")),
    ("gzip", ("gzip.py", "zlib")),
    ("rate limits", ("limits/", "web/ratelimit.py")),
    ("metrics", ("prometheus_client/", "web/metrics.py")),
    ("logging (access log)", ("logging/",)),
    ("mail sender", ("jobs/mail.py", "email/")),
    ("deadlines / holidays", ("complaints/deadlines.py", "holidays/")),
    ("threads / executor plumbing", ("threading.py", "concurrent/futures", "queue.py")),
    ("uvicorn / httptools", ("uvicorn/",)),
    ("starlette", ("starlette/",)),
    (
        "application code",
        ("citizen/", "public/", "store/", "web/", "complaints/", "intake.py", "server.py"),
    ),
    ("asyncio / event loop", ("asyncio/",)),
]

LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")


def _line_of(module: object, function: str, needle: str) -> int | None:
    import inspect

    try:
        lines, start = inspect.getsourcelines(getattr(module, function))
    except (AttributeError, OSError, TypeError):
        return None
    return next((start + i for i, text in enumerate(lines) if needle in text), None)


def idle_leaves() -> set[str]:
    """Leaf frames of threads that are blocked, waiting for work: py-spy does not always see
    them as idle, and counting them would drown the real work."""
    leaves = {
        "EpollSelector.select (selectors.py)",
        "Condition.wait (threading.py)",
        "Event.wait (threading.py)",
        "Thread.join (threading.py)",
    }
    try:
        import aiosqlite.core

        line = _line_of(aiosqlite.core, "_connection_worker_thread", "tx.get()")
        if line:
            leaves.add(f"_connection_worker_thread (aiosqlite/core.py:{line})")
    except ImportError:
        pass
    import concurrent.futures.thread as futures_thread

    line = _line_of(futures_thread, "_worker", "work_queue.get(block=True)")
    if line:
        leaves.add(f"_worker (concurrent/futures/thread.py:{line})")
    return leaves


def parse(path: Path) -> list[tuple[list[str], int]]:
    samples = []
    for line in path.read_text().splitlines():
        match = LINE.match(line)
        if match:
            samples.append((match["stack"].split(";"), int(match["count"])))
    return samples


def thread_name(frame: str) -> str:
    # "thread (0x7f..): MainThread" or "thread (1234): Thread-3 (_connection_worker_thread)"
    name = frame.split(": ", 1)[-1]
    return re.sub(r"Thread-\d+", "Thread-N", name)


def category(frames: list[str], idle: set[str]) -> str:
    if frames and (frames[-1] in idle or func_name(frames[-1]) in idle):
        return "(idle: thread waiting for work)"
    if frames and func_name(frames[-1]) == "Runner.run (asyncio/runners.py)":
        # uvloop runs in C below asyncio.run: its own work and its wait in epoll look alike.
        return "(uvloop C code or waiting in epoll)"
    for frame in reversed(frames):
        location = frame[frame.rfind("(") + 1 :] if "(" in frame else frame
        for name, needles in CATEGORIES:
            if any(n in location or n in frame for n in needles):
                return name
    return "other"


def func_name(frame: str) -> str:
    return re.sub(r":\d+\)$", ")", frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="py-spy raw (collapsed) output")
    parser.add_argument("--top", type=int, default=20, help="rows in the hottest-function lists")
    parser.add_argument(
        "--thread",
        default="",
        help="only samples of threads whose name contains this (e.g. MainThread)",
    )
    args = parser.parse_args(argv)
    samples = [
        (frames, n) for frames, n in parse(args.file) if args.thread in thread_name(frames[0])
    ]
    idle = idle_leaves()
    total = sum(n for _, n in samples)
    if not total:
        raise SystemExit("no samples")
    by_thread: collections.Counter[str] = collections.Counter()
    by_category: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for frames, n in samples:
        by_thread[thread_name(frames[0])] += n
        body = frames[1:]
        by_category[category(body, idle)] += n
        if body:
            self_time[func_name(body[-1])] += n
        for name in {func_name(f) for f in body}:
            inclusive[name] += n

    def table(title: str, counter: collections.Counter[str], limit: int | None = None) -> None:
        print(f"\n{title}")
        for name, n in counter.most_common(limit):
            print(f"  {n / total:6.1%}  {n:>7}  {name}")

    busy = total - by_category["(idle: thread waiting for work)"]
    print(f"{args.file}: {total} samples over all threads, {busy} not idle")
    table("by thread", by_thread)
    table("by category (leaf-most match)", by_category)
    table(f"top {args.top} self time", self_time, args.top)
    table(f"top {args.top} inclusive", inclusive, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
