"""Demo organisation for `serve --demo`: a province, two agencies, staff and posters, so a
newcomer can scan, report and sign in within a minute of installing."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from lapor.admin.passwords import generate_password, hash_password
from lapor.complaints.reports import Identity
from lapor.intake import Entry, Intake
from lapor.settings import Settings
from lapor.store.store import Store
from lapor.web.signing import Signing
from lapor.web.snippet import snippet

UNITS = (
    ("kalsel", "Pemerintah Provinsi Kalimantan Selatan", None),
    ("disdukcapil-bjm", "Dinas Kependudukan dan Pencatatan Sipil Kota Banjarmasin", "kalsel"),
    ("rsud-ulin", "RSUD Ulin Banjarmasin", "kalsel"),
    ("puskesmas-teluk-dalam", "Puskesmas Teluk Dalam", "rsud-ulin"),
)
USERS = (
    ("admin@demo.lapor.id", "admin", "kalsel", "Andi Pratama"),
    ("koordinator@demo.lapor.id", "coordinator", "kalsel", "Siti Nurhaliza"),
    ("inspektorat@demo.lapor.id", "inspector", "kalsel", "Bambang Hidayat"),
    ("penghubung.disdukcapil@demo.lapor.id", "officer", "disdukcapil-bjm", "Rina Wulandari"),
)
# Starter answers a unit's officer picks from instead of writing each one anew: (unit, category
# or None for any, title, text).
ANSWER_TEMPLATES = (
    (
        "kalsel",
        None,
        "Terima kasih, sedang ditindaklanjuti",
        "Terima kasih atas laporan Anda. Laporan ini sudah kami teruskan kepada petugas yang "
        "berwenang dan sedang ditindaklanjuti. Kami akan mengabarkan hasilnya melalui halaman "
        "laporan ini.",
    ),
    (
        "kalsel",
        None,
        "Mohon keterangan tambahan",
        "Terima kasih atas laporan Anda. Agar dapat kami tindak lanjuti, mohon sebutkan tanggal "
        "dan jam kejadian, lokasi yang tepat, serta nama atau ciri petugas bila ada.",
    ),
    (
        "disdukcapil-bjm",
        "kependudukan",
        "Antrean perekaman KTP-el",
        "Terima kasih atas laporan Anda. Mulai pekan ini loket perekaman KTP-el dibuka pukul "
        "08.00–15.00 dengan nomor antrean daring, dan petugas tambahan ditempatkan di loket 3. "
        "Bila masih terjadi, mohon balas melalui halaman laporan ini.",
    ),
)
POSTERS = (
    ("disdukcapil-bjm", "Loket 3 – Perekaman KTP-el"),
    ("disdukcapil-bjm", "Loket 5 – Akta Kelahiran"),
    ("rsud-ulin", "Instalasi Gawat Darurat"),
    ("puskesmas-teluk-dalam", "Ruang Tunggu Poli Umum"),
)

WIDGET_UNIT = "rsud-ulin"
# A kiosk for the province's hall: its agencies (the units below it) are offered on the tablet.
KIOSK_UNIT = "kalsel"
KIOSK_NAME = "Mal Pelayanan Publik – Lantai 1"
WIDGET_ORIGINS = ("http://localhost:8080",)


async def seed_demo(store: Store, settings: Settings) -> None:
    credentials_file = settings.data_dir / "demo-credentials.txt"
    if not await store.list_units():
        lines = await _seed(store)
        await _seed_reports(store, settings)
        await _seed_feedback(store)
        await _seed_answer_templates(store)
        _write_private(credentials_file, "\n".join(lines) + "\n")
        print(f"\nDemo organisation created. Staff accounts (also saved in {credentials_file}):")
        for line in lines:
            print("  " + line)
    elif credentials_file.exists():
        print(f"\nDemo staff accounts: see {credentials_file}")
    signing = Signing(settings.signing_keys())
    print("\nTry it:")
    for poster in await store.list_posters():
        code = signing.poster_code(poster.id, poster.version)
        print(f"  poster form  {settings.base_url}/q/{code}   ({poster.unit_name}: {poster.label})")
    for widget in await store.list_widgets():
        if widget.active:
            tag = snippet(settings.base_url, signing.widget_key(widget.id, widget.version)).tag
            print(
                f"  widget       ({widget.unit_name}, for {' '.join(widget.origins)}): put\n"
                f"               {tag}\n"
                "               in an index.html and serve it with "
                "`python3 -m http.server 8080`, then open http://localhost:8080/"
            )
    for kiosk in await store.kiosks.all():
        if kiosk.active and not kiosk.paired_at:
            _, pairing = await store.kiosks.new_pairing_code(kiosk.id, datetime.now(UTC))
            print(
                f"  kiosk        {settings.base_url}/kiosk   pairing code {pairing} "
                f"({kiosk.name}; valid 10 minutes, `lapor kiosk pair {kiosk.id}` for another)"
            )
    print(f"  status page  {settings.base_url}/t")
    print(f"  workspace    {settings.base_url}/admin")
    print(f"  health       {settings.base_url}/healthz\n")


async def _seed(store: Store) -> list[str]:
    for slug, name, parent in UNITS:
        await store.add_unit(slug, name, parent)
    lines = []
    for email, role, unit_slug, name in USERS:
        unit = await store.unit_by_slug(unit_slug)
        assert unit is not None
        password = generate_password()
        await store.add_user(email, hash_password(password), role, unit.id, name)
        lines.append(f"{role:<12} {email:<40} {password}")
    for unit_slug, label in POSTERS:
        unit = await store.unit_by_slug(unit_slug)
        assert unit is not None
        await store.add_poster(unit.id, label)
    # A widget for a page served beside the demo on another host name (another site).
    unit = await store.unit_by_slug(WIDGET_UNIT)
    assert unit is not None
    await store.add_widget(unit.id, list(WIDGET_ORIGINS))
    unit = await store.unit_by_slug(KIOSK_UNIT)
    assert unit is not None
    await store.kiosks.add(unit.id, KIOSK_NAME, datetime.now(UTC))
    return lines


# (entry unit, days ago, identity, how it came, text, what happens to it next)
REPORTS = (
    (
        "disdukcapil-bjm",
        1,
        Identity.NAMED,
        None,
        "Antrean perekaman KTP-el di loket 3 sangat panjang, saya menunggu dari jam 8 sampai "
        "jam 12 dan nomor antrean tidak dipanggil berurutan.",
        "received",
    ),
    (
        "rsud-ulin",
        0,
        Identity.CONFIDENTIAL,
        None,
        "Petugas IGD meminta uang tambahan untuk mempercepat pemeriksaan ayah saya.",
        "received",
    ),
    (
        "puskesmas-teluk-dalam",
        4,
        Identity.ANONYMOUS,
        None,
        "Ruang tunggu poli umum panas sekali, kipas angin mati semua sejak minggu lalu.",
        "received",
    ),
    (
        "disdukcapil-bjm",
        0,
        Identity.NAMED,
        "phone",
        "Warga menelepon: akta kelahiran anaknya belum jadi setelah tiga minggu, padahal "
        "dijanjikan satu minggu.",
        "received",
    ),
    (
        "disdukcapil-bjm",
        6,
        Identity.NAMED,
        None,
        "Formulir permohonan akta kelahiran di loket 5 habis, warga disuruh fotokopi sendiri.",
        "forwarded",
    ),
    (
        "disdukcapil-bjm",
        9,
        Identity.NAMED,
        None,
        "Situs pendaftaran antrean daring tidak bisa dibuka sejak pagi, muncul pesan galat.",
        "followed_up",
    ),
    (
        "disdukcapil-bjm",
        15,
        Identity.NAMED,
        None,
        "Petugas loket 3 ramah dan cepat, tetapi papan informasi persyaratan sudah pudar.",
        "closed",
    ),
    (
        "rsud-ulin",
        3,
        Identity.NAMED,
        None,
        "Parkir motor di depan IGD penuh dan juru parkir memungut tarif dua kali lipat.",
        "postponed",
    ),
    ("rsud-ulin", 2, Identity.ANONYMOUS, None, "tes tes tes coba kirim laporan saja.", "archived"),
)


async def _no_photos(names: list[str]) -> None:
    """The demo's reports come without photos: nothing to keep."""


async def _seed_reports(store: Store, settings: Settings) -> None:
    """A handful of reports in every state, so the inbox, a report's page, monitoring and the
    status pages have something to show on first start."""
    from datetime import timedelta

    from lapor.complaints.access import Reach, Scope
    from lapor.complaints.deadlines import follow_up_due
    from lapor.complaints.reports import Channel, Kind, Submission
    from lapor.complaints.workflow import Action, Forwarding

    # Through the same core as every surface's reports; nothing to count, no photos to move.
    intake = Intake(
        store,
        settings,
        commit_photos=_no_photos,
        reporter_secret_hash=Signing(settings.signing_keys()).reporter_secret_hash,
    )
    coordinator = await store.user_by_email("koordinator@demo.lapor.id")
    officer = await store.user_by_email("penghubung.disdukcapil@demo.lapor.id")
    units = {u.slug: u for u in await store.list_units()}
    posters = {p.unit_slug: p for p in await store.list_posters()}
    assert coordinator is not None and officer is not None
    everything = Scope(Reach.ALL, units["kalsel"].id, units["kalsel"].path)
    rules, calendar, tz = settings.deadline_rules, settings.calendar, settings.timezone
    now = datetime.now(UTC)
    arrivals = [(now - timedelta(days=r[1], hours=n), n, r) for n, r in enumerate(REPORTS)]
    # Stored oldest first, as reports arrive: the inbox's newest-first order is the order
    # they were stored in, so seeding them out of date order would show dates out of order.
    for received, n, (slug, _days_ago, identity, via, text, fate) in sorted(arrivals):
        named = identity is not Identity.ANONYMOUS
        submission = Submission(
            Kind.COMPLAINT,
            text,
            None,
            identity,
            "Siti Rahmawati" if named else None,
            "+6281234567890" if named else None,
            "siti@example.id" if named else None,
        )
        poster = None if via else posters[slug]
        result = await intake.submit(
            submission,
            Entry(
                Channel.STAFF if via else Channel.POSTER,
                units[slug].id,
                poster_id=poster.id if poster else None,
                taken_via=via,
                taken_by=coordinator.id if via else None,
            ),
            key=f"demo-{n}",
            language="id",
            received_at=received,
        )
        report_id, version = result.report_id, 1
        if fate in ("forwarded", "followed_up", "closed"):
            version = await store.forward_report(
                report_id,
                seen_version=version,
                actor=coordinator,
                scope=everything,
                forwarding=Forwarding(
                    text.split(",")[0][:80],
                    "Mohon segera ditindaklanjuti.",
                    units["disdukcapil-bjm"].id,
                    "kependudukan",
                    ("loket",),
                ),
                # Counted from the forwarding, now, as the workspace does.
                follow_up_due=follow_up_due(datetime.now(UTC), calendar, rules, tz),
            )
        if fate in ("followed_up", "closed"):
            version = await store.follow_up_report(
                report_id,
                seen_version=version,
                actor=officer,
                scope=everything,
                answer="Terima kasih. Sudah kami perbaiki hari ini; mohon kabari bila masih "
                "terjadi.",
            )
        if fate == "closed":
            await store.reporter_acts(
                report_id, seen_version=version, action=Action.ACCEPT, rating=4
            )
        if fate in ("postponed", "archived"):
            await store.decide(
                report_id,
                seen_version=version,
                actor=coordinator,
                scope=everything,
                action=Action.POSTPONE if fate == "postponed" else Action.ARCHIVE,
                reason=(
                    "Di tanggal berapa dan jam berapa kejadiannya?"
                    if fate == "postponed"
                    else "Bukan laporan: uji coba pengiriman."
                ),
                duplicate_of=None,
            )


# (unit, IKM surveys as nine answers 1-4 in item order, quick ratings 1-5), as if given at the
# unit's kiosk over the last days.
FEEDBACK = (
    (
        "disdukcapil-bjm",
        ("443343433", "343334333", "443443434", "333343324", "344443433"),
        (5, 4, 4, 3),
    ),
    ("rsud-ulin", ("332333323", "232333213", "333343322"), (2, 3, 4)),
    ("puskesmas-teluk-dalam", ("333433332", "443433322"), (4, 5)),
)


async def _seed_answer_templates(store: Store) -> None:
    from lapor.complaints.workflow import AnswerTemplateDraft

    admin = await store.user_by_email(USERS[0][0])
    assert admin is not None
    units = {u.slug: u for u in await store.list_units()}
    every_unit = [u.id for u in units.values()]
    for slug, category, title, body in ANSWER_TEMPLATES:
        draft = AnswerTemplateDraft(units[slug].id, category, title, body)
        await store.save_answer_template(None, draft, admin, every_unit)


async def _seed_feedback(store: Store) -> None:
    """Surveys and quick ratings, so the monitoring page shows an IKM score and its items."""
    from datetime import timedelta

    from lapor.complaints.feedback import FeedbackKind, FeedbackSubmission
    from lapor.complaints.records import NewFeedback

    units = {u.slug: u for u in await store.list_units()}
    n = 0
    for slug, surveys, ratings in FEEDBACK:
        given: list[tuple[FeedbackKind, int | None, tuple[int, ...] | None]] = [
            (FeedbackKind.IKM, None, tuple(int(d) for d in answers)) for answers in surveys
        ]
        given += [(FeedbackKind.RATING, rating, None) for rating in ratings]
        for kind, rating, answer_values in given:
            n += 1
            at = datetime.now(UTC) - timedelta(days=n % 9, hours=n)
            submission = FeedbackSubmission(kind, units[slug].id, rating, answer_values, "id", at)
            await store.record_feedback(
                NewFeedback(
                    submission=submission,
                    idempotency_key=f"demo-feedback-{n}",
                    body_hash=submission.body_hash(),
                    kiosk_id=None,
                    received_at=at,
                )
            )


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
