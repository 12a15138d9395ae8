"""Staff write to a reporter who left only an e-mail address, as they write to an SMS or
WhatsApp reporter: a mail through the outbox with the private link, on the timeline of both,
and nothing about the report moves. The reporter answers on the private page. Reporters with
no contact are not offered it, and a confidential reporter's address stays hidden."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import httpx
from bs4 import BeautifulSoup

from lapor.complaints.notices import ChangeNotice
from lapor.complaints.records import Report
from lapor.complaints.reports import Status
from tests.conftest import AppHarness, MakeHarness
from tests.html import field_values, one

KOOR = "koor@prov.go.id"
OFFICER = "petugas@dinas.go.id"
REPORTER = "sari@example.id"
WORDS = "Boleh kami tahu jam berapa Anda datang ke loket kemarin?"


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def reported(h: AppHarness, **fields: str) -> tuple[Report, str]:
    """A report by the poster's form and its private page's path."""
    response = await h.submit(files=None, **fields)
    assert response.status_code == 303, response.text
    private = response.headers["location"].removesuffix("?sent=1")
    report = await h.app.state.services.store.report_by_tracking_code(
        private.split("/")[2].replace("-", "")
    )
    assert report is not None
    return report, private


async def staff_page(h: AppHarness, email: str, report_id: int) -> BeautifulSoup:
    h.client.cookies.clear()
    assert (await h.login(email)).status_code == 303
    response = await h.client.get(f"/admin/reports/{report_id}")
    assert response.status_code == 200
    return soup(response)


def sent_mails(h: AppHarness, to: str) -> list[str]:
    """The bodies of the mails written to `to` (no SMTP server: .eml files)."""
    bodies = []
    for path in sorted(Path(h.settings.mail_dir).glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        if str(mail["To"]) == to:
            bodies.append(mail.get_body().get_content())  # type: ignore[union-attr]
    return bodies


async def test_a_mail_to_the_reporter_keeps_the_case_running(harness: AppHarness) -> None:
    h = harness
    report, private = await reported(h, identity="named", name="Sari", email=REPORTER)
    svc = h.app.state.services
    page = await staff_page(h, KOOR, report.id)
    label = one(page, "label[for=reply-message]").get_text()
    assert "email" in label and REPORTER not in label  # how it goes, not where

    response = await h.act(KOOR, report.id, "reply", message=WORDS)
    assert response.status_code == 303
    after = await svc.store.report_by_tracking_code(report.tracking_code)
    assert after is not None
    # Nothing about the case moved: its status, its deadline, its version.
    assert (after.status, after.verify_due, after.version) == (
        Status.RECEIVED,
        report.verify_due,
        report.version,
    )
    [queued] = [
        m
        for m in await svc.store.list_outbox()
        if isinstance(m.notice, ChangeNotice) and m.notice.event == "staff_message"
    ]
    assert queued.to_address == REPORTER
    page = await staff_page(h, KOOR, report.id)
    [out] = [li for li in page.select("li.message-out") if WORDS in li.get_text()]
    assert "Email ke pelapor" in out.get_text() and "delivery-queued" in str(out)

    assert await svc.mail.send_due() >= 1
    [body] = sent_mails(h, REPORTER)
    assert WORDS in body and "Petugas yang menangani laporan Anda" in body
    # The private link is in the mail, and opens the page to answer on ...
    link = next(w for w in body.split() if w.startswith(f"{h.settings.base_url}/t/"))
    assert link.removeprefix(h.settings.base_url) == private
    # ... but not on the outbox row, which staff's pages and backups read.
    [kept] = [m for m in await svc.store.list_outbox() if m.id == queued.id]
    assert kept.body is not None and private not in kept.body and WORDS in kept.body
    page = await staff_page(h, KOOR, report.id)
    [out] = [li for li in page.select("li.message-out") if WORDS in li.get_text()]
    assert "delivery-sent" in str(out)
    assert one(out, ".note").get_text() == WORDS  # staff's words, not the whole mail

    # The reporter reads it on the private page (not on the public one) and answers there.
    h.client.cookies.clear()
    mine = soup(await h.client.get(private))
    assert WORDS in one(mine, "#conversation").get_text()
    public = soup(await h.client.get(private.rsplit("/", 1)[0]))
    assert WORDS not in public.get_text() and public.find(id="message-form") is None
    form = one(mine, "#message-form")
    answer = "Saya datang pukul 09.30 dan loket sudah tutup."
    posted = await h.client.post(
        str(form["action"]),
        data={**field_values(form.find_all("input")), "text": answer},
        headers={"origin": h.settings.base_url},
    )
    assert posted.status_code == 303, posted.text
    mine = soup(await h.client.get(private))
    assert answer in one(mine, "#conversation").get_text()
    page = await staff_page(h, KOOR, report.id)
    [came] = [li for li in page.select("li.message-in") if answer in li.get_text()]
    assert "halaman pribadinya" in came.get_text()
    after = await svc.store.report_by_tracking_code(report.tracking_code)
    assert after is not None and after.status is Status.RECEIVED
    # The coordinator is told there is something to read.
    told = [
        m
        for m in await svc.store.list_outbox()
        if isinstance(m.notice, ChangeNotice) and m.notice.event == "reporter_message"
    ]
    assert [m.to_address for m in told] == [KOOR]


async def test_the_reporter_cannot_write_unasked_or_while_asked(harness: AppHarness) -> None:
    h = harness
    report, private = await reported(h, identity="named", name="Sari", email=REPORTER)
    page = soup(await h.client.get(private))
    assert page.find(id="message-form") is None  # nobody wrote to them
    refused = await h.client.post(
        f"{private}/message",
        data={"text": "Ini pesan yang tidak diminta siapa pun."},
        headers={"origin": h.settings.base_url},
    )
    assert refused.status_code == 409 and soup(refused).find(id="refusal") is not None
    assert (await h.act(KOOR, report.id, "reply", message=WORDS)).status_code == 303
    # Too short: the reason, what was typed, nothing stored.
    h.client.cookies.clear()
    short = await h.client.post(
        f"{private}/message", data={"text": "pagi"}, headers={"origin": h.settings.base_url}
    )
    assert short.status_code == 400
    assert one(soup(short), "#message-text").get_text() == "pagi"
    # Asked a question (tunda), the page's reply is the answer: no second form beside it.
    question = "Di loket nomor berapa Anda menunggu?"
    assert (await h.act(KOOR, report.id, "postpone", reason=question)).status_code == 303
    h.client.cookies.clear()
    page = soup(await h.client.get(private))
    assert page.find(id="message-form") is None and page.find(id="reply-text") is not None
    svc = h.app.state.services
    assert [m.direction for m in await svc.store.reporter_conversation(report.id)] == ["out"]


async def test_no_contact_no_message_and_a_confidential_address_stays_hidden(
    harness: AppHarness,
) -> None:
    h = harness
    await h.world.user(OFFICER, "officer", "dinas")
    anonymous, _ = await reported(h)
    page = await staff_page(h, KOOR, anonymous.id)
    assert page.find(id="reply-form") is None
    assert "anonim" in one(page, "#no-message").get_text()

    secret, _ = await reported(h, identity="rahasia", name="Rina", email="rina@example.id")
    assert (
        await h.act(
            KOOR,
            secret.id,
            "forward",
            title="Antrean",
            category="pelayanan",
            unit=str(h.world.units["dinas"].id),
        )
    ).status_code == 303
    # The officer may write to the confidential reporter, never learning who or where.
    page = await staff_page(h, OFFICER, secret.id)
    assert page.find(id="reply-form") is not None
    assert "rina@example.id" not in page.get_text() and "Rina" not in page.get_text()
    store = h.app.state.services.store
    before = await store.report_by_tracking_code(secret.tracking_code)
    assert (await h.act(OFFICER, secret.id, "reply", message=WORDS)).status_code == 303
    page = await staff_page(h, OFFICER, secret.id)
    assert "rina@example.id" not in str(page)
    after = await store.report_by_tracking_code(secret.tracking_code)
    assert before is not None and after is not None and after.status is Status.FORWARDED
    assert after.follow_up_due == before.follow_up_due  # the unit's clock runs on


async def test_the_reporters_messages_are_limited_as_submissions_are(
    make_harness: MakeHarness,
) -> None:
    # Each message mails the people holding the report: a leaked private link must not be a
    # way to flood their mailboxes.
    async with make_harness(submit_limit_per_address="3/day") as h:
        report, private = await reported(h, identity="named", name="Sari", email=REPORTER)
        assert (await h.act(KOOR, report.id, "reply", message=WORDS)).status_code == 303
        h.client.cookies.clear()
        sent = [
            await h.client.post(
                f"{private}/message",
                data={"text": f"Jawaban saya yang ke-{n}: saya datang pukul sembilan."},
                headers={"origin": h.settings.base_url},
            )
            for n in range(3)
        ]
        # The report took one of the three; two messages go, the third waits, its text kept.
        assert [r.status_code for r in sent] == [303, 303, 429]
        assert "Terlalu banyak pesan" in one(soup(sent[2]), "#refusal").get_text()
        assert "ke-2" in one(soup(sent[2]), "#message-text").get_text()
        svc = h.app.state.services
        directions = [m.direction for m in await svc.store.reporter_conversation(report.id)]
        assert directions == ["out", "in", "in"]
