"""Demo organisation for `serve --demo`: a province, two agencies, staff and posters, so a
newcomer can scan, report and sign in within a minute of installing."""

from __future__ import annotations

import os
from pathlib import Path

from admin.passwords import generate_password, hash_password
from settings import Settings
from store.store import Store
from web.signing import Signing

UNITS = (
    ("kalsel", "Pemerintah Provinsi Kalimantan Selatan", None),
    ("disdukcapil-bjm", "Dinas Kependudukan dan Pencatatan Sipil Kota Banjarmasin", "kalsel"),
    ("rsud-ulin", "RSUD Ulin Banjarmasin", "kalsel"),
    ("puskesmas-teluk-dalam", "Puskesmas Teluk Dalam", "rsud-ulin"),
)
USERS = (
    ("admin@demo.lapor.id", "admin", "kalsel"),
    ("koordinator@demo.lapor.id", "coordinator", "kalsel"),
    ("inspektorat@demo.lapor.id", "inspector", "kalsel"),
    ("penghubung.disdukcapil@demo.lapor.id", "officer", "disdukcapil-bjm"),
)
POSTERS = (
    ("disdukcapil-bjm", "Loket 3 – Perekaman KTP-el"),
    ("disdukcapil-bjm", "Loket 5 – Akta Kelahiran"),
    ("rsud-ulin", "Instalasi Gawat Darurat"),
    ("puskesmas-teluk-dalam", "Ruang Tunggu Poli Umum"),
)


async def seed_demo(store: Store, settings: Settings) -> None:
    credentials_file = settings.data_dir / "demo-credentials.txt"
    if not await store.list_units():
        lines = await _seed(store)
        _write_private(credentials_file, "\n".join(lines) + "\n")
        print("\nDemo organisation created. Staff accounts (also saved in "
              f"{credentials_file}):")
        for line in lines:
            print("  " + line)
    elif credentials_file.exists():
        print(f"\nDemo staff accounts: see {credentials_file}")
    signing = Signing(settings.signing_keys())
    print("\nTry it:")
    for poster in await store.list_posters():
        code = signing.poster_code(poster.id, poster.version)
        print(f"  poster form  {settings.base_url}/q/{code}   ({poster.unit_name}: {poster.label})")
    print(f"  status page  {settings.base_url}/t")
    print(f"  workspace    {settings.base_url}/admin")
    print(f"  health       {settings.base_url}/healthz\n")


async def _seed(store: Store) -> list[str]:
    for slug, name, parent in UNITS:
        await store.add_unit(slug, name, parent)
    lines = []
    for email, role, unit_slug in USERS:
        unit = await store.unit_by_slug(unit_slug)
        assert unit is not None
        password = generate_password()
        await store.add_user(email, hash_password(password), role, unit.id)
        lines.append(f"{role:<12} {email:<40} {password}")
    for unit_slug, label in POSTERS:
        unit = await store.unit_by_slug(unit_slug)
        assert unit is not None
        await store.add_poster(unit.id, label)
    return lines


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
