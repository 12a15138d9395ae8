"""Fill a database with a province's worth of reports, for bench/inbox.py.

    python bench/gen_reports.py                                   # 1,000,000 reports, SQLite
    python bench/gen_reports.py --reports 100000 --database-url sqlite:////tmp/x/lapor.db
    python bench/gen_reports.py --database-url postgresql://postgres@127.0.0.1:5432/test \\
        --schema bench_inbox --replace

What it makes (deterministic for a --seed, except the tracking codes, which come from
complaints.tracking.new_tracking_code like the real ones):

- a unit tree of 500 units: the province (the root), 20 agencies (dinas, RSUD, ...) and 479
  sub-units under them (puskesmas, schools, Samsat offices, ...), with materialised paths;
- staff: an admin, an inspector and a coordinator at the root, a coordinator at every agency,
  an officer at every sub-unit, all with the password PASSWORD below; one poster per unit;
- N reports (--reports, default 1,000,000) received over three years, ids increasing with
  received_at, busier on working days and office hours and growing over time. Agencies get
  Zipf-like shares (the biggest, Disdukcapil, about 20 %); 3 % of reports enter at the root.
  Kinds mostly pengaduan, channels mostly poster (some widget, kiosk, staff). Statuses follow
  the age of the report: old ones are mostly selesai (some arsip, bukan wewenang and a tail of
  stale masuk / diteruskan / tunda that are now overdue), recent ones spread over the whole
  workflow. Every report is routed to its agency's coordinator (root reports to the root's);
  forwarded ones carry forwarded_unit_id, forwarded_at and follow_up_due; due_on follows
  store.workflow._apply_change (verify_due while masuk, follow_up_due while diteruskan, NULL
  otherwise). Followed-up (ditindaklanjuti) reports were answered in the last 8 days, so the
  server's auto-close timer finds nothing to close and the data does not change under the
  benchmark.
- Indonesian texts assembled from word lists per agency: "pelayanan" is in about half of them,
  "samsat" in a few per cent, "buaya" in about one in ten thousand (see SEARCH_WORDS);
  search_text is complaints.search.search_text(title, text).

The schema is made by the app's own migrations (store.migrate), then the rows are bulk-loaded:
SQLite through the stdlib sqlite3 module (secondary indexes and the FTS5 triggers of migration
0004 dropped during the load and re-created from their stored definitions / the migration's own
statements, then reports_fts rebuilt), PostgreSQL through asyncpg's COPY (secondary indexes,
the GIN index included, dropped and re-created from pg_indexes; foreign-key triggers off during
the COPY). report_counts and report_forwarded_counts are filled as migrations 0004 and 0028
fill them, sequences are moved past the loaded ids; on PostgreSQL then VACUUM ANALYZE, what autovacuum would have done (SQLite gets
no ANALYZE: the server never runs one, its planner works without statistics).
report_events, report_photos and outbox stay empty: the inbox reads none of them.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import importlib.util
import itertools
import json
import random
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent

from sqlalchemy.engine import make_url  # noqa: E402

from lapor.complaints import search, tracking  # noqa: E402
from lapor.complaints.deadlines import DeadlineRules, WorkingCalendar  # noqa: E402
from lapor.settings import SETTINGS  # noqa: E402
from lapor.web.signing import Signing  # noqa: E402

PASSWORD = "bench-password-123456"
DEFAULT_DIR = Path("/tmp/lapor-bench-inbox")
DEFAULT_SQLITE_URL = f"sqlite:///{DEFAULT_DIR / 'sqlite' / 'lapor.db'}"
YEARS = 3
TOTAL_UNITS = 500
ROOT_SHARE = 0.03  # reports entered at the province itself
AGENCY_ENTRY_SHARE = 0.15  # of an agency's reports, entered at the agency rather than a sub-unit
ZIPF_S = 0.8
BATCH = 50_000

# Words bench/inbox.py searches for, by how often they occur.
SEARCH_WORDS = {
    "common": "pelayanan",
    "medium": "samsat",
    "rare": "buaya",
    "two words": "jalan rusak",
    "prefix": "sekol",
}

TZ = ZoneInfo(next(s.default for s in SETTINGS if s.name == "LAPOR_TIMEZONE"))
RULES = DeadlineRules()
CALENDAR = WorkingCalendar()

# -- the organisation ----------------------------------------------------------------------------
# slug, name, what its sub-units are called, problems (title, phrase) citizens write about
AGENCIES: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    (
        "disdukcapil",
        "Dinas Kependudukan dan Pencatatan Sipil",
        "Loket Dukcapil",
        [
            ("Blangko KTP-el habis", "blangko KTP elektronik habis sudah tiga bulan"),
            (
                "Akta kelahiran terlambat",
                "akta kelahiran anak saya belum selesai padahal dijanjikan seminggu",
            ),
            (
                "Antrean perekaman KTP",
                "antrean perekaman KTP sangat panjang dan nomor antrean dijual",
            ),
            (
                "Kartu keluarga salah cetak",
                "nama di kartu keluarga salah cetak dan harus mengurus ulang",
            ),
        ],
    ),
    (
        "dinkes",
        "Dinas Kesehatan",
        "UPT Puskesmas",
        [
            (
                "Obat kosong di puskesmas",
                "obat di apotek puskesmas kosong dan pasien disuruh membeli sendiri",
            ),
            ("Dokter puskesmas tidak hadir", "dokter di puskesmas tidak hadir pada jam praktik"),
            ("Antrean BPJS di puskesmas", "pasien BPJS di puskesmas dilayani paling akhir"),
            (
                "Ambulans puskesmas",
                "ambulans puskesmas tidak bisa dihubungi saat warga sakit parah",
            ),
        ],
    ),
    (
        "pupr",
        "Dinas Pekerjaan Umum dan Penataan Ruang",
        "UPT Jalan dan Jembatan Wilayah",
        [
            (
                "Jalan rusak berlubang",
                "jalan rusak dan berlubang cukup dalam sehingga sering terjadi kecelakaan",
            ),
            (
                "Drainase tersumbat",
                "drainase tersumbat sampah sehingga air meluap ke jalan saat hujan",
            ),
            ("Jembatan retak", "jembatan kayu penghubung kampung retak dan miring"),
            ("Jalan rusak setelah galian", "jalan rusak setelah galian pipa tidak ditutup kembali"),
        ],
    ),
    (
        "disdik",
        "Dinas Pendidikan dan Kebudayaan",
        "SMA Negeri",
        [
            (
                "Pungutan di sekolah",
                "sekolah meminta pungutan uang bangunan kepada orang tua murid",
            ),
            (
                "Zonasi PPDB",
                "anak saya tidak diterima di sekolah terdekat padahal rumah dekat karena zonasi",
            ),
            ("Guru jarang masuk", "guru mata pelajaran jarang masuk kelas sejak awal semester"),
            (
                "Atap sekolah bocor",
                "atap ruang kelas sekolah bocor sehingga murid belajar di lorong",
            ),
        ],
    ),
    (
        "rsud",
        "RSUD Ulin Banjarmasin",
        "Instalasi",
        [
            ("Pasien ditolak IGD", "pasien ditolak di IGD dengan alasan kamar penuh"),
            ("Antrean poliklinik", "antrean poliklinik sejak subuh tetapi dokter datang siang"),
            (
                "Tagihan rumah sakit",
                "keluarga pasien BPJS masih diminta membayar obat di rumah sakit",
            ),
            ("Toilet rumah sakit kotor", "toilet di ruang rawat inap kotor dan air tidak mengalir"),
        ],
    ),
    (
        "dishub",
        "Dinas Perhubungan",
        "UPT Terminal dan Perparkiran",
        [
            ("Parkir liar", "parkir liar di bahu jalan menyebabkan kemacetan setiap sore"),
            ("Lampu lalu lintas mati", "lampu lalu lintas di simpang mati sejak seminggu"),
            ("Tarif angkot", "sopir angkot menaikkan tarif seenaknya"),
            ("Juru parkir pungli", "juru parkir meminta tarif melebihi karcis resmi"),
        ],
    ),
    (
        "bapenda",
        "Badan Pendapatan Daerah",
        "Samsat",
        [
            (
                "Calo di Samsat",
                "banyak calo di kantor Samsat yang menawarkan jasa bayar pajak kendaraan",
            ),
            (
                "Pajak kendaraan online",
                "pembayaran pajak kendaraan online gagal tetapi saldo terpotong",
            ),
            ("Antrean Samsat", "antrean di Samsat keliling sangat lama dan petugas sedikit"),
        ],
    ),
    (
        "dlh",
        "Dinas Lingkungan Hidup",
        "UPT Persampahan",
        [
            (
                "Sampah menumpuk",
                "sampah menumpuk di tempat pembuangan sementara dan tidak diangkut",
            ),
            ("Limbah pabrik", "limbah pabrik dibuang ke sungai dan air berbau busuk"),
            ("Pembakaran sampah", "warga membakar sampah sehingga asap masuk ke rumah"),
        ],
    ),
    (
        "dinsos",
        "Dinas Sosial",
        "Pendamping Sosial Kecamatan",
        [
            (
                "Bansos tidak tepat sasaran",
                "bantuan sosial tidak tepat sasaran dan keluarga miskin tidak terdaftar",
            ),
            ("PKH terlambat", "dana PKH belum cair padahal sudah jadwalnya"),
            ("Anak terlantar", "ada anak terlantar yang tidur di emperan toko"),
        ],
    ),
    (
        "dpmptsp",
        "Dinas Penanaman Modal dan PTSP",
        "Loket Perizinan",
        [
            ("Izin usaha lama", "izin usaha yang saya ajukan belum terbit lebih dari sebulan"),
            ("Sistem OSS error", "sistem perizinan online error saat mengunggah dokumen"),
            ("Biaya izin tidak resmi", "petugas meminta biaya tambahan untuk mempercepat izin"),
        ],
    ),
    (
        "satpolpp",
        "Satuan Polisi Pamong Praja",
        "Pos Satpol PP",
        [
            (
                "Pedagang kaki lima",
                "pedagang kaki lima berjualan di trotoar sehingga pejalan kaki turun ke jalan",
            ),
            ("Tempat hiburan malam", "tempat hiburan malam buka melewati jam yang diizinkan"),
            ("Reklame liar", "reklame liar dipasang di pohon dan tiang listrik"),
        ],
    ),
    (
        "disperkim",
        "Dinas Perumahan dan Kawasan Permukiman",
        "UPT Permukiman",
        [
            (
                "Lampu jalan padam",
                "lampu penerangan jalan umum padam sehingga jalan gelap dan rawan",
            ),
            (
                "Rumah tidak layak huni",
                "bantuan bedah rumah tidak layak huni belum juga dikerjakan",
            ),
            ("Air bersih", "air bersih tidak mengalir ke permukiman warga"),
        ],
    ),
    (
        "disnakertrans",
        "Dinas Tenaga Kerja dan Transmigrasi",
        "UPT Balai Latihan Kerja",
        [
            ("Gaji di bawah UMP", "perusahaan membayar gaji di bawah upah minimum provinsi"),
            ("THR tidak dibayar", "THR karyawan tidak dibayar oleh perusahaan"),
            ("Kartu kuning", "pembuatan kartu kuning dipersulit"),
        ],
    ),
    (
        "distan",
        "Dinas Pertanian",
        "Balai Penyuluhan Pertanian",
        [
            ("Pupuk subsidi langka", "pupuk subsidi langka di kios resmi menjelang musim tanam"),
            ("Hama wereng", "hama wereng menyerang sawah dan penyuluh tidak datang"),
            ("Alat pertanian", "bantuan alat pertanian hanya diberikan kepada kelompok tertentu"),
        ],
    ),
    (
        "dkp",
        "Dinas Kelautan dan Perikanan",
        "Pelabuhan Perikanan",
        [
            ("Solar nelayan", "nelayan kesulitan mendapatkan solar bersubsidi"),
            ("Kapal tanpa izin", "kapal pukat harimau beroperasi di wilayah tangkap nelayan kecil"),
        ],
    ),
    (
        "diskopukm",
        "Dinas Koperasi dan UMKM",
        "Pusat Layanan Usaha Terpadu",
        [
            ("Bantuan UMKM", "bantuan modal UMKM tidak sampai kepada pelaku usaha"),
            ("Koperasi bermasalah", "koperasi simpan pinjam tidak mengembalikan simpanan anggota"),
        ],
    ),
    (
        "dispar",
        "Dinas Pariwisata",
        "UPT Objek Wisata",
        [
            ("Objek wisata kotor", "objek wisata kotor dan toilet umum rusak"),
            ("Retribusi wisata", "retribusi masuk objek wisata tidak sesuai karcis"),
        ],
    ),
    (
        "bpbd",
        "Badan Penanggulangan Bencana Daerah",
        "Pos Siaga Bencana",
        [
            ("Banjir", "banjir merendam rumah warga setinggi lutut"),
            ("Kebakaran lahan", "kebakaran lahan gambut menimbulkan kabut asap"),
            ("Tanah longsor", "tebing di belakang rumah warga mulai longsor"),
        ],
    ),
    (
        "dkp3",
        "Dinas Ketahanan Pangan",
        "UPT Pasar Murah",
        [
            ("Harga beras naik", "harga beras di pasar naik tajam dan operasi pasar tidak ada"),
            ("Beras bantuan berkutu", "beras bantuan yang dibagikan berkutu dan berbau"),
        ],
    ),
    (
        "diskominfo",
        "Dinas Komunikasi dan Informatika",
        "Layanan Internet Desa",
        [
            (
                "Sinyal internet",
                "sinyal internet di desa sangat lemah sehingga murid sulit belajar daring",
            ),
            ("Situs pemerintah", "situs resmi pemerintah daerah tidak bisa diakses"),
        ],
    ),
]
CITIES = [
    "Banjarmasin",
    "Banjarbaru",
    "Martapura",
    "Pelaihari",
    "Kandangan",
    "Barabai",
    "Amuntai",
    "Tanjung",
    "Rantau",
    "Kotabaru",
    "Batulicin",
    "Marabahan",
    "Paringin",
]
KELURAHAN = [
    "Kuin Utara",
    "Sungai Miai",
    "Teluk Dalam",
    "Pekapuran Raya",
    "Kelayan Barat",
    "Pemurus Dalam",
    "Sungai Lulut",
    "Banua Anyar",
    "Kertak Baru Ilir",
    "Melayu",
    "Seberang Mesjid",
    "Antasan Besar",
    "Mawar",
    "Belitung Selatan",
    "Basirih",
    "Alalak Utara",
    "Landasan Ulin",
    "Guntung Manggis",
    "Loktabat",
    "Sungai Paring",
    "Sungai Andai",
    "Pelambuan",
    "Teluk Tiram",
    "Tanjung Pagar",
]
KECAMATAN = [
    "Banjarmasin Utara",
    "Banjarmasin Tengah",
    "Banjarmasin Selatan",
    "Banjarmasin Timur",
    "Banjarmasin Barat",
    "Banjarbaru Utara",
    "Liang Anggang",
    "Martapura Kota",
    "Gambut",
    "Pelaihari",
    "Kertak Hanyar",
    "Cempaka",
]

# -- the words of a report ---------------------------------------------------------------------
OPENERS = [
    "Saya ingin melaporkan bahwa",
    "Mohon perhatian, ",
    "Kami warga {kel} mengeluhkan",
    "Selamat pagi, saya mau menyampaikan bahwa",
    "Melalui kanal ini saya sampaikan",
    "Tolong ditindaklanjuti,",
    "Assalamualaikum, izin melapor,",
    "Bapak/Ibu yth,",
    "Selamat siang, saya warga {kel} ingin menyampaikan bahwa",
]
SINCE = [
    "sejak {n} minggu lalu",
    "sejak awal bulan ini",
    "sudah {n} hari",
    "setiap pagi",
    "hampir setiap hari",
    "sejak musim hujan",
    "sejak tahun lalu",
    "beberapa kali bulan ini",
]
GENERIC = [
    "Petugas tidak ada di tempat pada jam pelayanan.",
    "Sudah disampaikan ke petugas loket tetapi belum ada tanggapan.",
    "Kualitas pelayanan sangat mengecewakan masyarakat.",
    "Warga sekitar sudah beberapa kali mengeluh kepada RT.",
    "Kami harus datang berulang kali tanpa kepastian.",
    "Informasi di papan pengumuman tidak jelas.",
    "Mohon pelayanan diperbaiki agar tidak terulang.",
    "Anak-anak dan lansia ikut terdampak.",
    "Biaya yang diminta tidak sesuai dengan aturan yang berlaku.",
    "Antrean mengular sejak pagi dan tidak ada tempat duduk.",
    "Jam pelayanan sering tidak sesuai dengan yang tertulis.",
    "Nomor pengaduan yang tertera tidak pernah diangkat.",
    "Kondisi ini sudah berlangsung lama tanpa perbaikan.",
    "Kami berharap pemerintah daerah segera turun tangan.",
]
CLOSINGS = [
    "Mohon segera ditindaklanjuti. Terima kasih.",
    "Terima kasih atas perhatiannya.",
    "Mohon ditindaklanjuti oleh dinas terkait.",
    "Semoga ada perbaikan pelayanan ke depannya.",
    "Terima kasih.",
    "",
]
ASPIRATIONS = ["Saya mengusulkan agar", "Sebaiknya", "Kami berharap", "Usul saya,"]
ASPIRATION_WISHES = [
    "jam pelayanan diperpanjang sampai sore hari",
    "disediakan layanan antrean daring supaya warga tidak menunggu lama",
    "dibangun taman bermain untuk anak di lingkungan kami",
    "petugas diberi pelatihan pelayanan yang ramah",
    "ada loket khusus untuk lansia dan penyandang disabilitas",
]
QUESTIONS = ["Saya ingin menanyakan", "Mohon informasi", "Bagaimana"]
QUESTION_TOPICS = [
    "persyaratan dan prosedur layanan di kantor ini",
    "jadwal pelayanan selama bulan puasa",
    "biaya resmi pengurusan dokumen",
    "cara mengecek status pengajuan saya secara online",
]
RARE_SENTENCE = "Ada buaya muncul di sungai dekat permukiman warga."
# The unit's answer on a followed-up report (reports.answer_text, migration 0023), which the
# public list /jawaban shows. Picked by report id, not by the generator's random stream, so the
# reports themselves (and what bench/inbox.py finds) stay as they were before answers existed.
ANSWERS = [
    "Terima kasih atas laporan Anda. Petugas kami sudah turun ke lokasi dan masalah tersebut "
    "sedang ditangani.",
    "Laporan sudah kami teruskan ke bidang terkait dan perbaikan dijadwalkan minggu ini.",
    "Kami mohon maaf atas ketidaknyamanan ini. Pelayanan sudah kembali normal sejak kemarin.",
    "Tim kami telah memeriksa lokasi; perbaikan akan selesai dalam 14 hari kerja.",
    "Terima kasih. Berkas Anda sudah selesai diproses dan dapat diambil di loket pelayanan.",
    "Masukan Anda kami catat dan akan dibahas dalam rapat evaluasi pelayanan bulan depan.",
]
RARE_EVERY = 10_000


# -- rows ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitRow:
    id: int
    slug: str
    name: str
    parent_id: int | None
    path: str
    agency: int | None  # index into AGENCIES; None for the root


def build_units() -> list[UnitRow]:
    """1 root + len(AGENCIES) agencies + sub-units spread evenly, TOTAL_UNITS in all."""
    units = [UnitRow(1, "kalsel", "Pemerintah Provinsi Kalimantan Selatan", None, "1/", None)]
    for i, (slug, name, _, _) in enumerate(AGENCIES):
        unit_id = 2 + i
        units.append(
            UnitRow(unit_id, slug, f"{name} Provinsi Kalimantan Selatan", 1, f"1/{unit_id}/", i)
        )
    leaves = TOTAL_UNITS - len(units)
    per, extra = divmod(leaves, len(AGENCIES))
    next_id = len(units) + 1
    for i, (slug, _, leaf_kind, _) in enumerate(AGENCIES):
        for k in range(per + (1 if i < extra else 0)):
            city = CITIES[k % len(CITIES)]
            units.append(
                UnitRow(
                    next_id,
                    f"{slug}-{k + 1:02d}",
                    f"{leaf_kind} {city} {k // len(CITIES) + 1}",
                    2 + i,
                    f"1/{2 + i}/{next_id}/",
                    i,
                )
            )
            next_id += 1
    return units


def staff_emails(units: list[UnitRow]) -> list[tuple[str, str, int]]:
    """(email, role, unit id) of every account; the first four are the ones bench/inbox.py uses
    by name (see ACCOUNTS)."""
    out = [
        ("admin@lapor.bench", "admin", 1),
        ("inspektur@lapor.bench", "inspector", 1),
        ("koordinator@lapor.bench", "coordinator", 1),
    ]
    out += [
        (f"koordinator.{u.slug}@lapor.bench", "coordinator", u.id)
        for u in units
        if u.parent_id == 1
    ]
    out += [
        (f"petugas.{u.slug}@lapor.bench", "officer", u.id)
        for u in units
        if u.parent_id not in (None, 1)
    ]
    return out


def agency_coordinator(slug: str) -> str:
    return f"koordinator.{slug}@lapor.bench"


def officer(slug: str) -> str:
    return f"petugas.{slug}@lapor.bench"


ADMIN, ROOT_COORDINATOR = "admin@lapor.bench", "koordinator@lapor.bench"

# Statuses by the report's age in days: (younger than, [(status, weight), ...]).
STATUS_BY_AGE: list[tuple[float, list[tuple[str, float]]]] = [
    (3, [("masuk", 70), ("diteruskan", 20), ("tunda", 5), ("arsip", 3), ("bukan_wewenang", 2)]),
    (
        14,
        [
            ("masuk", 15),
            ("diteruskan", 45),
            ("ditindaklanjuti", 20),
            ("tunda", 8),
            ("arsip", 5),
            ("bukan_wewenang", 4),
            ("selesai", 3),
        ],
    ),
    (
        60,
        [
            ("masuk", 3),
            ("diteruskan", 12),
            ("ditindaklanjuti", 5),
            ("tunda", 5),
            ("arsip", 6),
            ("bukan_wewenang", 5),
            ("selesai", 64),
        ],
    ),
    (
        1e9,
        [
            ("masuk", 0.3),
            ("diteruskan", 1.5),
            ("tunda", 1),
            ("arsip", 6),
            ("bukan_wewenang", 4),
            ("selesai", 87.2),
        ],
    ),
]
KINDS = [("pengaduan", 80), ("aspirasi", 12), ("informasi", 8)]
CHANNELS = [("poster", 70), ("widget", 15), ("kiosk", 10), ("staff", 5)]

REPORT_COLUMNS = [
    "id",
    "tracking_code",
    "idempotency_key",
    "body_hash",
    "kind",
    "status",
    "text",
    "location",
    "identity",
    "reporter_name",
    "reporter_phone",
    "reporter_email",
    "channel",
    "unit_id",
    "poster_id",
    "routed_unit_id",
    "language",
    "received_at",
    "verify_due",
    "updated_at",
    "version",
    "title",
    "forwarded_unit_id",
    "forwarded_at",
    "follow_up_due",
    "rating",
    "closed_at",
    "due_on",
    "search_text",
    "category",
    "tags",
    "assigned_user_id",
]
# Filled when a later migration has added them (the first moments of the two clocks).
OPTIONAL_COLUMNS = ["verified_at", "followed_up_at", "answer_text", "reporter_secret_hash"]
DATETIME_COLUMNS = {
    "received_at",
    "updated_at",
    "forwarded_at",
    "closed_at",
    "verified_at",
    "followed_up_at",
    "created_at",
    "revoked_at",
}
DATE_COLUMNS = {"verify_due", "follow_up_due", "due_on"}


def _picker(rng: random.Random, pairs: list[tuple[Any, float]]) -> Callable[[], Any]:
    values = [v for v, _ in pairs]
    cum = list(itertools.accumulate(w for _, w in pairs))
    total = cum[-1]

    def pick() -> Any:
        return values[bisect.bisect_right(cum, rng.random() * total)]

    return pick


class ReportMaker:
    """Reports in id order (= received_at order), as dicts of column values (Python types)."""

    def __init__(
        self,
        units: list[UnitRow],
        count: int,
        seed: int,
        now: datetime,
        secret_key: str | None = None,
    ) -> None:
        self.rng = rng = random.Random(seed)
        # With the server's key, each report gets the digest of its private link as intake
        # stores it; without one, NULL, which the server fills in at its first start (migration
        # 0012's backfill, a thousand a transaction: minutes per million reports).
        self.signing = Signing([secret_key]) if secret_key else None
        self.now = now
        self.count = count
        self.units = units
        self.leaves_of: dict[int, list[UnitRow]] = {}
        for u in units:
            if u.parent_id not in (None, 1):
                self.leaves_of.setdefault(u.parent_id, []).append(u)
        self.agencies = [u for u in units if u.parent_id == 1]
        self.all_leaves = [leaf for a in self.agencies for leaf in self.leaves_of[a.id]]
        self.pick_agency = _picker(
            rng, [(a, 1 / (i + 1) ** ZIPF_S) for i, a in enumerate(self.agencies)]
        )
        self.pick_kind = _picker(rng, KINDS)
        self.pick_channel = _picker(rng, CHANNELS)
        self.pick_status = [(age, _picker(rng, pairs)) for age, pairs in STATUS_BY_AGE]
        self._due_cache: dict[tuple[date, int], date] = {}

    # days, weighted: weekdays busier, holidays quiet, traffic growing over the years
    def received_times(self) -> list[datetime]:
        rng = self.rng
        first = (self.now - timedelta(days=365 * YEARS)).astimezone(TZ).date()
        last = self.now.astimezone(TZ).date()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        weights = []
        for i, day in enumerate(days):
            w = 1.0 if CALENDAR.is_working_day(day) else 0.35
            weights.append(w * (0.6 + 0.8 * i / len(days)))
        cum = list(itertools.accumulate(weights))
        hours = list(range(24))
        hour_w = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 14, 10, 12, 13, 11, 8, 6, 5, 5, 4, 3, 2, 1]
        hour_cum = list(itertools.accumulate(hour_w))
        out = []
        midnight_cache: dict[date, datetime] = {}
        for _ in range(self.count):
            day = days[bisect.bisect_right(cum, rng.random() * cum[-1])]
            hour = hours[bisect.bisect_right(hour_cum, rng.random() * hour_cum[-1])]
            base = midnight_cache.get(day)
            if base is None:
                base = midnight_cache[day] = datetime(day.year, day.month, day.day, tzinfo=TZ)
            moment = base + timedelta(hours=hour, seconds=rng.random() * 3600)
            out.append(moment.astimezone(UTC))
        out.sort()
        limit = self.now - timedelta(minutes=1)
        return [min(m, limit) for m in out]

    def _working_days_after(self, moment: datetime, days: int) -> date:
        local = moment.astimezone(TZ).date()
        key = (local, days)
        due = self._due_cache.get(key)
        if due is None:
            due = self._due_cache[key] = CALENDAR.add_working_days(local, days)
        return due

    def _after(self, moment: datetime, low_h: float, high_h: float) -> datetime:
        """A moment low_h..high_h hours after `moment`, but before now."""
        limit = self.now - timedelta(minutes=1)
        later = moment + timedelta(hours=self.rng.uniform(low_h, high_h))
        if later <= limit:
            return later
        if moment >= limit:
            return moment
        return moment + (limit - moment) * self.rng.random()

    def text(self, agency: int | None, kind: str) -> tuple[str, str]:
        """(text, title of the problem)."""
        rng = self.rng
        topics = AGENCIES[agency if agency is not None else rng.randrange(len(AGENCIES))][3]
        title, problem = rng.choice(topics)
        kel = rng.choice(KELURAHAN)
        parts: list[str] = []
        if kind == "aspirasi":
            parts.append(f"{rng.choice(ASPIRATIONS)} {rng.choice(ASPIRATION_WISHES)}.")
            if rng.random() < 0.5:
                parts.append(f"Selama ini {problem}.")
        elif kind == "informasi":
            parts.append(f"{rng.choice(QUESTIONS)} {rng.choice(QUESTION_TOPICS)}?")
            if rng.random() < 0.4:
                parts.append(f"Saya dengar {problem}.")
        else:
            opener = rng.choice(OPENERS).format(kel=kel)
            since = rng.choice(SINCE).format(n=rng.randint(2, 6))
            where = f" di Kelurahan {kel}" if rng.random() < 0.6 else ""
            parts.append(f"{opener} {problem}{where} {since}.")
        parts.extend(rng.sample(GENERIC, rng.choice((0, 1, 1, 2, 2, 3))))
        if rng.randrange(RARE_EVERY) == 0:
            parts.append(RARE_SENTENCE)
        parts.append(rng.choice(CLOSINGS))
        return " ".join(p for p in parts if p), f"{title} di Kelurahan {kel}"

    def rows(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        codes: set[str] = set()
        for report_id, received in enumerate(self.received_times(), start=1):
            age = (self.now - received).total_seconds() / 86400
            status = next(pick for limit, pick in self.pick_status if age < limit)()
            # where it entered and who is responsible
            if rng.random() < ROOT_SHARE:
                entry, agency, routed = self.units[0], None, 1
            else:
                agency_unit = self.pick_agency()
                agency, routed = agency_unit.agency, agency_unit.id
                leaves = self.leaves_of[agency_unit.id]
                entry = (
                    agency_unit
                    if rng.random() < AGENCY_ENTRY_SHARE
                    else leaves[rng.randrange(len(leaves))]
                )
            kind, channel = self.pick_kind(), self.pick_channel()
            text, title = self.text(agency, kind)
            code = tracking.new_tracking_code()
            while code in codes:
                code = tracking.new_tracking_code()
            codes.add(code)
            verify_due = self._working_days_after(received, RULES.verify_days)
            row: dict[str, Any] = dict(
                id=report_id,
                tracking_code=code,
                idempotency_key=f"bench-{report_id:012d}",
                body_hash=f"{report_id:064x}",
                kind=kind,
                status=status,
                text=text,
                location=(
                    f"Kelurahan {rng.choice(KELURAHAN)}, Kecamatan {rng.choice(KECAMATAN)}"
                    if rng.random() < 0.6
                    else None
                ),
                identity="anonim",
                reporter_name=None,
                reporter_phone=None,
                reporter_email=None,
                channel=channel,
                unit_id=entry.id,
                poster_id=entry.id if channel == "poster" else None,  # poster i is unit i's
                routed_unit_id=routed,
                language="id",
                received_at=received,
                verify_due=verify_due,
                updated_at=received,
                version=1,
                title=None,
                forwarded_unit_id=None,
                forwarded_at=None,
                follow_up_due=None,
                rating=None,
                closed_at=None,
                due_on=None,
                category=None,
                tags=None,
                assigned_user_id=None,
                verified_at=None,
                followed_up_at=None,
                answer_text=None,
            )
            if status != "masuk":
                verified = self._after(received, 1, 60)
                row.update(verified_at=verified, updated_at=verified, version=2)
            if status in ("diteruskan", "ditindaklanjuti", "selesai"):
                if entry.parent_id not in (None, 1) and rng.random() < 0.85:
                    target = entry.id
                elif routed == 1:
                    target = self.all_leaves[rng.randrange(len(self.all_leaves))].id
                else:
                    leaves = self.leaves_of[routed]
                    target = leaves[rng.randrange(len(leaves))].id
                forwarded = row["verified_at"]
                row.update(
                    title=title,
                    forwarded_unit_id=target,
                    forwarded_at=forwarded,
                    follow_up_due=self._working_days_after(forwarded, RULES.follow_up_days),
                )
            if status == "ditindaklanjuti":
                # answered within the last 8 days: nothing for the auto-close timer
                start = max(row["forwarded_at"], self.now - timedelta(days=8))
                answered = self._after(start, 0, (self.now - start).total_seconds() / 3600)
                row.update(
                    followed_up_at=answered,
                    updated_at=answered,
                    version=3,
                    answer_text=ANSWERS[report_id % len(ANSWERS)],
                )
            elif status == "selesai":
                answered = self._after(row["forwarded_at"], 12, 24 * 7)
                closed = self._after(answered, 4, 24 * 14)
                row.update(
                    followed_up_at=answered,
                    answer_text=ANSWERS[report_id % len(ANSWERS)],
                    closed_at=closed,
                    updated_at=closed,
                    version=4,
                    rating=rng.randint(1, 5) if rng.random() < 0.7 else None,
                )
            row["due_on"] = {"masuk": row["verify_due"], "diteruskan": row["follow_up_due"]}.get(
                status
            )
            row["search_text"] = search.search_text(row["title"], text)
            row["reporter_secret_hash"] = (
                self.signing.reporter_secret_hash(row["idempotency_key"]) if self.signing else None
            )
            yield row


# -- loading -------------------------------------------------------------------------------------
def _sqlite_value(column: str, value: Any) -> Any:
    """What SQLAlchemy's SQLite types store (checked against them in _check_sqlite_format)."""
    if value is None:
        return None
    if column in DATETIME_COLUMNS:
        # = strftime("%Y-%m-%d %H:%M:%S.%f"), a twentieth of its cost
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if column in DATE_COLUMNS:
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _check_sqlite_format() -> None:
    from sqlalchemy.dialects import sqlite

    from lapor.store import schema as t

    dialect = sqlite.dialect()
    sample_dt = datetime(2024, 5, 6, 7, 8, 9, 123, tzinfo=UTC)
    for column, value in (("received_at", sample_dt), ("verify_due", date(2024, 5, 6))):
        process = t.reports.c[column].type._cached_bind_processor(dialect)
        expected = process(value) if process else value
        if expected != _sqlite_value(column, value):
            raise SystemExit(f"SQLite storage format of {column} changed: {expected!r}")


def _migration_0004() -> Any:
    path = ROOT / "store" / "migrations" / "versions" / "0004_inbox_at_scale.py"
    spec = importlib.util.spec_from_file_location("lapor_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _static_rows(units: list[UnitRow], now: datetime) -> dict[str, tuple[list[str], list[tuple]]]:
    from lapor.admin.passwords import hash_password

    created = now - timedelta(days=365 * YEARS + 30)
    password_hash = hash_password(PASSWORD)  # one argon2 hash, shared by every account
    return {
        "units": (
            ["id", "slug", "name", "parent_id", "path", "created_at"],
            [(u.id, u.slug, u.name, u.parent_id, u.path, created) for u in units],
        ),
        "users": (
            ["id", "email", "password_hash", "role", "unit_id", "active", "created_at"],
            [
                (i, email, password_hash, role, unit_id, True, created)
                for i, (email, role, unit_id) in enumerate(staff_emails(units), start=1)
            ],
        ),
        "posters": (
            ["id", "unit_id", "label", "version", "created_at", "revoked_at"],
            [(u.id, u.id, f"Loket 1 – {u.name}"[:200], 1, created, None) for u in units],
        ),
    }


async def _migrate(url: str, schema: str | None) -> None:
    from lapor.store.db import Database
    from lapor.store.migrate import migrate

    await migrate(Database(url, schema=schema))


@dataclass
class Timings:
    phases: list[tuple[str, float]]
    started: float

    def mark(self, name: str, log: Callable[[str], None]) -> None:
        now = time.perf_counter()
        last = self.started + sum(s for _, s in self.phases)
        self.phases.append((name, now - last))
        log(f"  {name}: {now - last:.1f} s")

    @property
    def total(self) -> float:
        return sum(s for _, s in self.phases)


def load_sqlite(
    url: str, count: int, seed: int, log: Callable[[str], None], secret_key: str | None = None
) -> dict[str, Any]:
    _check_sqlite_format()
    path = Path(make_url(url).database or "")
    timings = Timings([], time.perf_counter())
    asyncio.run(_migrate(url, None))
    timings.mark("migrations", log)
    now = datetime.now(UTC)
    units = build_units()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")  # back to WAL at the end
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        conn.execute("PRAGMA temp_store=MEMORY")
        if conn.execute("SELECT count(*) FROM reports").fetchone()[0]:
            raise SystemExit(f"{path} already has reports (use --replace)")
        columns = [r[1] for r in conn.execute("PRAGMA table_info(reports)")]
        used = REPORT_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in columns]
        _check_columns(
            "reports",
            used,
            [(r[1], r[3], r[4]) for r in conn.execute("PRAGMA table_info(reports)")],
        )
        # what the migrations made, put back as it was after the load
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'reports' AND sql IS NOT NULL"
        ).fetchall()
        triggers = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'reports'"
            )
        ]
        fts_triggers = [s for s in _migration_0004()._SQLITE_FTS if s.startswith("CREATE TRIGGER")]
        for name in triggers:
            if not any(f" {name} " in s for s in fts_triggers):
                raise SystemExit(f"unexpected trigger {name} on reports: update gen_reports.py")
        conn.execute("BEGIN")
        for name in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table, (cols, rows) in _static_rows(units, now).items():
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [
                    tuple(_sqlite_value(c, v) for c, v in zip(cols, row, strict=True))
                    for row in rows
                ],
            )
        conn.execute("COMMIT")
        timings.mark("units, staff, posters", log)

        insert = f"INSERT INTO reports ({', '.join(used)}) VALUES ({', '.join('?' * len(used))})"
        maker = ReportMaker(units, count, seed, now, secret_key)
        conn.execute("BEGIN")
        done, began = 0, time.perf_counter()
        for batch in _batches(maker.rows(), BATCH):
            conn.executemany(insert, [tuple(_sqlite_value(c, r[c]) for c in used) for r in batch])
            done += len(batch)
            if done % 200_000 < BATCH:
                log(f"    {done:,} reports, {done / (time.perf_counter() - began):,.0f}/s")
        conn.execute("COMMIT")
        timings.mark(f"{count:,} reports generated and inserted", log)
        _settle_sqlite(conn, indexes, fts_triggers, timings, log)
        return _summary_sqlite(conn, timings)
    finally:
        conn.close()


def _counter_fills(tables: set[str]) -> list[str]:
    """The inbox's counter rows, filled as migrations 0004 and 0028 fill them."""
    out = [
        "DELETE FROM report_counts",
        "INSERT INTO report_counts (unit_id, status, n) "
        "SELECT COALESCE(routed_unit_id, 0), status, COUNT(*) FROM reports "
        "GROUP BY COALESCE(routed_unit_id, 0), status",
    ]
    if "report_forwarded_counts" in tables:
        out += [
            "DELETE FROM report_forwarded_counts",
            "INSERT INTO report_forwarded_counts (unit_id, status, n) "
            "SELECT forwarded_unit_id, status, COUNT(*) FROM reports "
            "WHERE forwarded_unit_id IS NOT NULL GROUP BY forwarded_unit_id, status",
        ]
    return out


def _sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# Tables that name reports by id: a copy is made before anything refers to its reports.
_REFERRING = ("report_events", "report_photos", "reminders", "outbox", "national_events")


def multiply_sqlite(
    source: Path,
    url: str,
    copies: int,
    log: Callable[[str], None],
    secret_key: str | None = None,
) -> dict[str, Any]:
    """A database `copies` times as dense as `source` (a generated SQLite database nothing
    has run on yet): the same province, staff and three years, each report stored `copies`
    times in a row (ids (id-1)*copies+1 ... id*copies, the same moment, unit, status, text and
    deadlines; every copy its own tracking code and idempotency key). Every share of the
    generator's (statuses, units, search words) stays as it is and every count is multiplied,
    as a portal with `copies` times the traffic would hold. The rows are copied inside SQLite,
    so ten million take minutes where generating them in Python takes an hour on a shared
    2-core machine; the indexes and the search index are built as load_sqlite builds them."""
    path = Path(make_url(url).database or "")
    timings = Timings([], time.perf_counter())
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    probe = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        for table in _REFERRING:
            if probe.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
                raise SystemExit(f"{source} has rows in {table}: use freshly generated data")
    finally:
        probe.close()
    shutil.copyfile(source, path)
    timings.mark(f"{source} copied", log)
    signing = Signing([secret_key]) if secret_key else None
    codes: set[str] = set()

    def new_code() -> str:
        code = tracking.new_tracking_code()
        while code in codes:
            code = tracking.new_tracking_code()
        codes.add(code)
        return code

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA threads=2")
        codes.update(r[0] for r in conn.execute("SELECT tracking_code FROM reports"))
        conn.create_function("bench_code", 0, new_code)
        conn.create_function(
            "bench_secret",
            1,
            (lambda key: signing.reporter_secret_hash(key)) if signing else (lambda key: None),
        )
        columns = [r[1] for r in conn.execute("PRAGMA table_info(reports)")]
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'reports' AND sql IS NOT NULL"
        ).fetchall()
        fts = [s for s in _migration_0004()._SQLITE_FTS if s.startswith("CREATE TRIGGER")]
        triggers = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'reports'"
            )
        ]
        conn.execute(f"ATTACH DATABASE 'file:{source}?mode=ro' AS src")
        conn.execute("BEGIN")
        for name in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("DELETE FROM reports")
        conn.execute("INSERT INTO reports_fts(reports_fts) VALUES ('delete-all')")
        conn.execute("CREATE TEMP TABLE bench_copy (n INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO bench_copy VALUES (?)", [(n,) for n in range(copies)])
        made = {
            "id": f"(r.id - 1) * {copies} + c.n + 1",
            "tracking_code": "CASE c.n WHEN 0 THEN r.tracking_code ELSE bench_code() END",
            "idempotency_key": "CASE c.n WHEN 0 THEN r.idempotency_key "
            "ELSE r.idempotency_key || '-' || c.n END",
            "body_hash": "r.body_hash",
        }
        if "reporter_secret_hash" in columns:
            made["reporter_secret_hash"] = (
                "CASE c.n WHEN 0 THEN r.reporter_secret_hash "
                "ELSE bench_secret(r.idempotency_key || '-' || c.n) END"
            )
        values = ", ".join(made.get(c, f"r.{c}") for c in columns)
        # src.reports outermost, in rowid order: the new ids arrive in ascending order.
        conn.execute(
            f"INSERT INTO main.reports ({', '.join(columns)}) SELECT {values} "
            "FROM src.reports AS r CROSS JOIN temp.bench_copy AS c"
        )
        conn.execute("COMMIT")
        count = conn.execute("SELECT max(id) FROM reports").fetchone()[0]
        timings.mark(f"{count:,} reports copied ({copies} of each)", log)
        conn.execute("DETACH DATABASE src")
        _settle_sqlite(conn, indexes, fts, timings, log)
        summary = _summary_sqlite(conn, timings)
    finally:
        conn.close()
    summary["reports"] = count
    summary["database_bytes"] = path.stat().st_size
    summary["copies_of"] = str(source)
    log(
        f"made in {summary['seconds']:.1f} s; database file: {summary['database_bytes'] / 1e6:,.0f} MB"
    )
    return summary


def _check_columns(table: str, used: list[str], info: list[tuple[str, bool, Any]]) -> None:
    """Every NOT NULL column without a default must be one the generator fills."""
    missing = [
        name
        for name, notnull, default in info
        if notnull and default is None and name not in used and name != "id"
    ]
    if missing:
        raise SystemExit(f"{table} has new required columns {missing}: update gen_reports.py")


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _settle_sqlite(
    conn: sqlite3.Connection,
    indexes: list[Any],
    fts_triggers: list[str],
    timings: Timings,
    log: Callable[[str], None],
) -> None:
    """After the bulk insert: the report indexes, the search index rebuilt with its triggers
    back, the counter rows, WAL, as the server's migrations leave a database."""
    conn.execute("BEGIN")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    timings.mark(f"{len(indexes)} indexes on reports", log)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO reports_fts(reports_fts) VALUES ('rebuild')")
    for statement in fts_triggers:
        conn.execute(statement)
    conn.execute("COMMIT")
    timings.mark("reports_fts rebuilt, triggers back", log)
    conn.execute("BEGIN")
    for statement in _counter_fills(_sqlite_tables(conn)):
        conn.execute(statement)
    conn.execute("COMMIT")
    # No ANALYZE: the server never gathers SQLite's statistics, so its planner works without
    # them, and so must the benchmark's.
    conn.execute("PRAGMA journal_mode=WAL")
    timings.mark("report_counts", log)


def _summary_sqlite(conn: sqlite3.Connection, timings: Timings) -> dict[str, Any]:
    statuses = dict(conn.execute("SELECT status, SUM(n) FROM report_counts GROUP BY status"))
    hits = {}
    for label, words in SEARCH_WORDS.items():
        match = search.fts5_match(search.tokens(words))
        hits[label] = (
            words,
            conn.execute(
                "SELECT count(*) FROM reports_fts WHERE reports_fts MATCH ?", (match,)
            ).fetchone()[0],
        )
    return _summary(statuses, hits, timings)


def _summary(
    statuses: dict[str, int], hits: dict[str, tuple[str, int]], timings: Timings
) -> dict[str, Any]:
    return {
        "statuses": statuses,
        "search_hits": hits,
        "seconds": round(timings.total, 1),
        "phases": [(name, round(s, 1)) for name, s in timings.phases],
    }


async def load_postgresql(
    url: str,
    schema: str | None,
    count: int,
    seed: int,
    log: Callable[[str], None],
    secret_key: str | None = None,
) -> dict[str, Any]:
    import asyncpg

    timings = Timings([], time.perf_counter())
    await _migrate(url, schema)
    timings.mark("migrations", log)
    now = datetime.now(UTC)
    units = build_units()
    settings = {"search_path": schema} if schema else {}
    conn = await asyncpg.connect(_asyncpg_dsn(url), server_settings=settings)
    try:
        if await conn.fetchval("SELECT count(*) FROM reports"):
            raise SystemExit("the database already has reports (use --replace)")
        nsp = schema or "public"
        info = await conn.fetch(
            "SELECT column_name, is_nullable = 'NO' AS notnull, column_default "
            "FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'reports'",
            nsp,
        )
        columns = [r["column_name"] for r in info]
        used = REPORT_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in columns]
        _check_columns(
            "reports", used, [(r["column_name"], r["notnull"], r["column_default"]) for r in info]
        )
        # secondary indexes (not those behind constraints), put back as they were
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = $1 "
            "AND i.tablename = 'reports' AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 "
            "AND c.conname = i.indexname)",
            nsp,
        )
        await conn.execute("SET maintenance_work_mem = '512MB'")
        # foreign keys are right by construction; skip their per-row triggers during COPY
        await conn.execute("SET session_replication_role = replica")
        async with conn.transaction():
            for row in indexes:
                await conn.execute(f'DROP INDEX "{nsp}"."{row["indexname"]}"')
            for table, (cols, rows) in _static_rows(units, now).items():
                await conn.copy_records_to_table(table, records=rows, columns=cols, schema_name=nsp)
        timings.mark("units, staff, posters", log)
        maker = ReportMaker(units, count, seed, now, secret_key)
        done, began = 0, time.perf_counter()
        async with conn.transaction():
            for batch in _batches(maker.rows(), BATCH):
                await conn.copy_records_to_table(
                    "reports",
                    records=[tuple(r[c] for c in used) for r in batch],
                    columns=used,
                    schema_name=nsp,
                )
                done += len(batch)
                if done % 200_000 < BATCH:
                    log(f"    {done:,} reports, {done / (time.perf_counter() - began):,.0f}/s")
        await conn.execute("SET session_replication_role = DEFAULT")
        timings.mark(f"{count:,} reports generated and copied", log)
        for row in indexes:
            await conn.execute(row["indexdef"])
        timings.mark(f"{len(indexes)} indexes on reports (GIN included)", log)
        async with conn.transaction():
            for table in ("units", "users", "posters", "reports"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{nsp}.{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            tables = {
                r[0]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = $1", nsp
                )
            }
            for statement in _counter_fills(tables):
                await conn.execute(statement)
        await conn.execute("VACUUM (ANALYZE)")
        timings.mark("sequences, report_counts, VACUUM ANALYZE", log)
        statuses = {
            r[0]: r[1]
            for r in await conn.fetch(
                "SELECT status, SUM(n)::int FROM report_counts GROUP BY status"
            )
        }
        hits = {}
        # the indexed tsvector: the generated column since migration 0006, else 0004's expression
        vector = (
            "search_vector"
            if "search_vector" in columns
            else "to_tsvector('simple'::regconfig, search_text)"
        )
        for label, words in SEARCH_WORDS.items():
            hits[label] = (
                words,
                await conn.fetchval(
                    f"SELECT count(*) FROM reports WHERE {vector} "
                    "@@ to_tsquery('simple'::regconfig, $1)",
                    search.tsquery(search.tokens(words)),
                ),
            )
        return _summary(statuses, hits, timings)
    finally:
        await conn.close()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_reset(url: str, schema: str | None, replace: bool) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        if schema:
            if replace:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        elif replace:
            database = make_url(url).database or ""
            if not database.startswith("lapor_bench"):
                raise SystemExit(
                    "--replace without --schema empties the public schema: only "
                    "allowed in a database whose name starts with lapor_bench"
                )
            await conn.execute("DROP SCHEMA public CASCADE")
            await conn.execute("CREATE SCHEMA public")
    finally:
        await conn.close()


def generate(
    url: str,
    *,
    reports: int,
    schema: str | None = None,
    seed: int = 1,
    replace: bool = False,
    log: Callable[[str], None] = print,
    secret_key: str | None = None,
) -> dict[str, Any]:
    """Make the schema and load everything; returns a summary (statuses, search hits, seconds).
    `secret_key`: the server's LAPOR_SECRET_KEYS (one key), to store each report's private-link
    digest as intake does; without it they are left for the server to fill in."""
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    log(f"generating {reports:,} reports into {url}{f' (schema {schema})' if schema else ''}")
    if is_sqlite:
        if schema:
            raise SystemExit("--schema is for PostgreSQL only")
        path = Path(make_url(url).database or "")
        if replace:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        summary = load_sqlite(url, reports, seed, log, secret_key)
        summary["database_bytes"] = path.stat().st_size
    else:
        asyncio.run(_pg_reset(url, schema, replace))
        summary = asyncio.run(load_postgresql(url, schema, reports, seed, log, secret_key))
    summary["reports"] = reports
    log(f"loaded in {summary['seconds']:.1f} s")
    log(
        "reports per status: "
        + ", ".join(f"{s} {n:,}" for s, n in sorted(summary["statuses"].items()))
    )
    log(
        "search hits: "
        + ", ".join(f"{label} {w!r} {n:,}" for label, (w, n) in summary["search_hits"].items())
    )
    if "database_bytes" in summary:
        log(f"database file: {summary['database_bytes'] / 1e6:,.0f} MB")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Fill a database with a 500-unit province and N reports for bench/inbox.py."
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_SQLITE_URL,
        help=f"sqlite:///PATH or postgresql://... (default {DEFAULT_SQLITE_URL})",
    )
    parser.add_argument("--schema", help="PostgreSQL schema to load into (created if missing)")
    parser.add_argument("--reports", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--replace",
        action="store_true",
        help="start from scratch: delete the SQLite file, or drop the schema",
    )
    parser.add_argument("--summary", metavar="FILE", help="write the summary as JSON here")
    parser.add_argument(
        "--secret-key",
        help="the server's LAPOR_SECRET_KEYS, to store the private links' digests (else left "
        "NULL for the server's first start to fill in)",
    )
    parser.add_argument(
        "--copies-of",
        metavar="LAPOR_DB",
        help="SQLite: instead of generating, store every report of this freshly generated "
        "database --copies times (see multiply_sqlite)",
    )
    parser.add_argument("--copies", type=int, default=10, help="with --copies-of (default 10)")
    args = parser.parse_args(argv)
    if args.copies_of:
        summary = multiply_sqlite(
            Path(args.copies_of), args.database_url, args.copies, print, args.secret_key
        )
        if args.summary:
            Path(args.summary).write_text(json.dumps(summary, indent=2, default=str))
        return 0
    summary = generate(
        args.database_url,
        reports=args.reports,
        schema=args.schema,
        seed=args.seed,
        replace=args.replace,
        secret_key=args.secret_key,
    )
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
