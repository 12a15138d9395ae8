"""The only place with SQL, behind one object: each method is one read or one write
transaction, running a plain function of a connection from the module of its subject, so the
same SQL runs on both backends (see store/db.py). The methods choose read or write, pass the
arguments on, and keep the caches of the busiest look-ups."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from lapor.complaints import search
from lapor.complaints.access import Reach, Scope
from lapor.complaints.conversation import ChannelMessage
from lapor.complaints.deadlines import UnitDeadlines
from lapor.complaints.inbox import Cursor, InboxQuery
from lapor.complaints.monitoring import Key, Raw
from lapor.complaints.national import PortalEvent
from lapor.complaints.notices import AnyNotice
from lapor.complaints.publication import ListHold
from lapor.complaints.records import (
    AnswerTemplate,
    ApiKey,
    ExportJob,
    FeedbackResult,
    HandOver,
    InboxItem,
    InboxPage,
    NewFeedback,
    NewPhoto,
    NewReport,
    OutboxMessage,
    Poster,
    PublicReport,
    PublicUpdate,
    Report,
    StaffSession,
    SubmitResult,
    Unit,
    UnitSummary,
    User,
    Widget,
)
from lapor.complaints.reports import Status
from lapor.complaints.whatsapp import Inbound
from lapor.complaints.whatsapp import Status as WhatsAppStatus
from lapor.complaints.workflow import (
    Action,
    AnswerTemplateDraft,
    Classification,
    Forwarding,
    Redaction,
)
from lapor.store import (
    answers,
    conversation,
    entry_points,
    exports,
    feedback,
    inbox,
    intake,
    kiosks,
    leases,
    monitoring,
    national,
    open311,
    organisation,
    outbox,
    private_links,
    publication,
    reminders,
    reports,
    whatsapp,
    workflow,
)
from lapor.store.cache import TtlCache
from lapor.store.clock import now
from lapor.store.db import Database
from lapor.store.migrate import revision_of
from lapor.store.monitoring import Period

__all__ = ["Store", "now"]


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Every form view looks its poster up, every open of an embedded form its widget.
        self._posters: TtlCache[int, Poster | None] = TtlCache()
        self._widgets: TtlCache[int, Widget | None] = TtlCache()
        # Every submission and forwarding asks for its unit's limits.
        self._deadlines: TtlCache[int, UnitDeadlines] = TtlCache()
        # Every inbox page lists the units a member of staff may filter by (500 for a
        # province: 8 ms to read each time); the tree changes rarely. One entry, the tree.
        self._units: TtlCache[None, list[Unit]] = TtlCache()
        self.kiosks = kiosks.KioskStore(db)

    def _forget_units(self) -> None:
        self._units.clear()
        self._deadlines.clear()

    async def ping(self) -> None:
        await self.db.read(lambda conn: conn.execute(text("SELECT 1")).scalar())

    async def schema_revision(self) -> str | None:
        """The schema revision the database is at; answering is also the proof it is up."""
        return await self.db.read(revision_of)

    async def release_outbox(self, message: OutboxMessage) -> None:
        """Hand back a claim this sender holds, so another sender takes it at once rather than
        when its lease runs out (a graceful stop, store.outbox.release)."""
        if message.claim_token is not None:
            await self.db.write(partial(outbox.release, claim_token=message.claim_token, at=now()))

    # -- units -----------------------------------------------------------------------------
    async def add_unit(self, slug: str, name: str, parent_slug: str | None = None) -> Unit:
        unit = await self.db.write(
            partial(organisation.add_unit, slug=slug, name=name, parent_slug=parent_slug)
        )
        self._forget_units()
        return unit

    async def set_unit_sms_word(self, slug: str, word: str | None) -> Unit:
        unit = await self.db.write(partial(organisation.set_sms_word, slug=slug, word=word))
        self._forget_units()
        return unit

    async def unit_deadlines(self, unit_id: int) -> UnitDeadlines:
        """The limits in force for reports of `unit_id`: its own, else its nearest parent's."""
        return await self._deadlines.get(
            unit_id, partial(self.db.read, partial(organisation.unit_deadlines, unit_id=unit_id))
        )

    async def set_unit_deadlines(self, unit_id: int, days: UnitDeadlines, scope: Scope) -> None:
        """Set a unit's own limits; NotFound for a unit outside `scope`."""
        await self.db.write(
            partial(organisation.set_unit_deadlines, unit_id=unit_id, days=days, scope=scope)
        )
        self._forget_units()  # the units below follow its deadlines too

    async def list_units(self) -> list[Unit]:
        return await self.db.read(organisation.list_units)

    async def unit(self, unit_id: int) -> Unit | None:
        return await self.db.read(partial(organisation.unit, unit_id=unit_id))

    async def unit_summaries(self) -> list[UnitSummary]:
        """Every unit in tree order with what hangs off it, for the admin's unit list."""
        return await self.db.read(organisation.unit_summaries)

    async def rename_unit(self, unit_id: int, name: str) -> Unit:
        """A new display name; the slug stays, since scripts and logs know the unit by it."""
        unit = await self.db.write(partial(organisation.rename_unit, unit_id=unit_id, name=name))
        self._forget_units()
        return unit

    async def delete_unit(self, unit_id: int) -> None:
        """Only a unit nothing refers to (see store.organisation.delete_unit)."""
        await self.db.write(partial(organisation.delete_unit, unit_id=unit_id))
        self._forget_units()

    async def unit_by_slug(self, slug: str) -> Unit | None:
        return await self.db.read(partial(organisation.unit_by_slug, slug=slug))

    async def units_in_scope(self, scope: Scope) -> list[Unit]:
        """The units a member of staff may filter by: all, their subtree, or their own unit."""
        everything = await self._units.get(None, partial(self.db.read, organisation.unit_tree))
        if scope.reach is Reach.SUBTREE:
            return [u for u in everything if u.path.startswith(scope.unit_path)]
        if scope.reach is Reach.FORWARDED:
            return [u for u in everything if u.id == scope.unit_id]
        return list(everything)

    async def coordinator_units(self) -> list[Unit]:
        """Units with an active coordinator: where a report can be handed over to."""
        return await self.db.read(organisation.coordinator_units)

    # -- users and sessions ----------------------------------------------------------------
    async def add_user(
        self, email: str, password_hash: str, role: str, unit_id: int, name: str | None = None
    ) -> User:
        return await self.db.write(
            partial(
                organisation.add_user,
                email=email,
                password_hash=password_hash,
                role=role,
                unit_id=unit_id,
                name=name,
            )
        )

    async def update_user(self, user_id: int, *, name: str | None, role: str, unit_id: int) -> User:
        return await self.db.write(
            partial(
                organisation.update_user, user_id=user_id, name=name, role=role, unit_id=unit_id
            )
        )

    async def list_users(self) -> list[tuple[User, Unit]]:
        return await self.db.read(organisation.list_users)

    async def user_by_email(self, email: str) -> User | None:
        return await self.db.read(partial(organisation.user_by_email, email=email))

    async def user(self, user_id: int) -> User | None:
        return await self.db.read(partial(organisation.user, user_id=user_id))

    async def unit_staff(self, unit_id: int, roles: Sequence[str]) -> list[User]:
        """The active people of one unit with one of `roles`, by e-mail."""
        return await self.db.read(partial(organisation.unit_staff, unit_id=unit_id, roles=roles))

    async def set_user_active(self, user_id: int, active: bool) -> User:
        """Deactivating ends the account's sessions too (see store.organisation)."""
        return await self.db.write(
            partial(organisation.set_user_active, user_id=user_id, active=active)
        )

    async def reset_password(
        self, user_id: int, password_hash: str, keep_token_hash: str | None = None
    ) -> User:
        """A new password; every session of the account ends but `keep_token_hash`."""
        return await self.db.write(
            partial(
                organisation.reset_password,
                user_id=user_id,
                password_hash=password_hash,
                keep_token_hash=keep_token_hash,
            )
        )

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self.db.write(
            partial(organisation.set_password_hash, user_id=user_id, password_hash=password_hash)
        )

    async def create_session(self, user_id: int, token_hash: str, max_age: int) -> str:
        return await self.db.write(
            partial(
                organisation.create_session,
                user_id=user_id,
                token_hash=token_hash,
                max_age=max_age,
            )
        )

    async def session(self, token_hash: str) -> StaffSession | None:
        return await self.db.read(partial(organisation.session, token_hash=token_hash))

    async def delete_other_sessions(self, user_id: int, keep_token_hash: str) -> None:
        await self.db.write(
            partial(
                organisation.delete_other_sessions, user_id=user_id, keep_token_hash=keep_token_hash
            )
        )

    async def delete_session(self, token_hash: str) -> None:
        await self.db.write(partial(organisation.delete_session, token_hash=token_hash))

    # -- posters ---------------------------------------------------------------------------
    async def add_poster(self, unit_id: int, label: str) -> Poster:
        return await self.db.write(partial(entry_points.add_poster, unit_id=unit_id, label=label))

    async def poster(self, poster_id: int) -> Poster | None:
        return await self.db.read(partial(entry_points.poster, poster_id=poster_id))

    async def poster_for_form(self, poster_id: int) -> Poster | None:
        """`poster()` through a short cache: the citizen's form is the busiest page."""
        return await self._posters.get(poster_id, partial(self.poster, poster_id))

    async def list_posters(self, unit_id: int | None = None) -> list[Poster]:
        return await self.db.read(partial(entry_points.list_posters, unit_id=unit_id))

    async def relabel_poster(self, poster_id: int, label: str) -> Poster:
        poster = await self.db.write(
            partial(entry_points.relabel_poster, poster_id=poster_id, label=label)
        )
        self._posters.forget(poster_id)  # the form's heading shows the label
        return poster

    async def revoke_poster(self, poster_id: int) -> Poster:
        poster = await self.db.write(partial(entry_points.revoke_poster, poster_id=poster_id))
        self._posters.forget(poster_id)
        return poster

    # -- widgets ---------------------------------------------------------------------------
    async def add_widget(self, unit_id: int, origins: Sequence[str]) -> Widget:
        """`origins` already normalised by complaints.origins; at least one."""
        return await self.db.write(
            partial(entry_points.add_widget, unit_id=unit_id, origins=origins)
        )

    async def widget(self, widget_id: int) -> Widget | None:
        return await self.db.read(partial(entry_points.widget, widget_id=widget_id))

    async def widget_for_frame(self, widget_id: int) -> Widget | None:
        """`widget()` through a short cache: every open of every embedded form asks."""
        return await self._widgets.get(widget_id, partial(self.widget, widget_id))

    async def list_widgets(self, unit_id: int | None = None) -> list[Widget]:
        return await self.db.read(partial(entry_points.list_widgets, unit_id=unit_id))

    async def set_widget_origins(self, widget_id: int, origins: Sequence[str]) -> Widget:
        """The next frame this process serves sees the new sites at once; another process
        within LOOKUP_CACHE_SECONDS (its own cache of the widget)."""
        widget = await self.db.write(
            partial(entry_points.set_widget_origins, widget_id=widget_id, origins=origins)
        )
        self._widgets.forget(widget_id)
        return widget

    async def revoke_widget(self, widget_id: int) -> Widget:
        """For good: the key stops working on every site at once. A new widget gets a new key."""
        widget = await self.db.write(partial(entry_points.revoke_widget, widget_id=widget_id))
        self._widgets.forget(widget_id)
        return widget

    # -- Open311 ---------------------------------------------------------------------------
    async def add_api_key(self, name: str, key_hash: str) -> ApiKey:
        return await self.db.write(partial(open311.add_api_key, name=name, key_hash=key_hash))

    async def api_key(self, key_id: int) -> ApiKey | None:
        return await self.db.read(partial(open311.api_key, key_id=key_id))

    async def active_api_key(self, key_hash: str) -> ApiKey | None:
        """The unrevoked key with this digest. Not cached: a revocation holds at once."""
        return await self.db.read(partial(open311.active_api_key, key_hash=key_hash))

    async def list_api_keys(self) -> list[ApiKey]:
        return await self.db.read(open311.list_api_keys)

    async def revoke_api_key(self, key_id: int) -> ApiKey:
        return await self.db.write(partial(open311.revoke_api_key, key_id=key_id))

    async def api_key_used(self, key_id: int) -> None:
        await self.db.write(partial(open311.key_used, key_id=key_id, at=now()))

    async def public_reports(
        self,
        *,
        codes: Sequence[str] = (),
        categories: Sequence[str] = (),
        statuses: Sequence[Status] = (),
        start: datetime | None = None,
        end: datetime | None = None,
        offset: int = 0,
        limit: int = 1000,
    ) -> list[PublicReport]:
        """Reports the public may see (store.open311), newest first."""
        return await self.db.read(
            partial(
                open311.public_reports,
                codes=codes,
                categories=categories,
                statuses=statuses,
                start=start,
                end=end,
                offset=offset,
                limit=limit,
            )
        )

    async def public_updates(
        self, *, start: datetime, end: datetime, offset: int = 0, limit: int = 1000
    ) -> list[PublicUpdate]:
        return await self.db.read(
            partial(open311.public_updates, start=start, end=end, offset=offset, limit=limit)
        )

    # -- reports ---------------------------------------------------------------------------
    async def submit_report(self, new: NewReport) -> SubmitResult:
        """Store a citizen's report in one transaction, once per idempotency key (store.intake)."""
        return await self.db.write(partial(intake.submit_report, new=new))

    async def fill_in_reporter_secrets(
        self, digests: Callable[[str], str], *, batch: int = 1000
    ) -> int:
        """Give every report stored before migration 0012 its link's digests
        (store.private_links), a batch per transaction so the writer is never held for long;
        how many were filled in."""
        total = 0
        while filled := await self.db.write(
            partial(private_links.fill_in, digests=digests, limit=batch)
        ):
            total += filled
        return total

    async def add_reporter_secret(self, report_id: int, digest: str) -> None:
        """The report's private link opens with the secret of this digest too
        (store.private_links)."""
        await self.db.write(partial(private_links.add, report_id=report_id, digest=digest))

    async def submitted(self, key: str) -> bool:
        """Whether a report was stored under this idempotency key (a channel's retry)."""
        return await self.db.read(partial(intake.stored_key, key=key))

    async def report_by_tracking_code(self, code: str) -> Report | None:
        return await self.db.read(partial(reports.report_by_tracking_code, code=code))

    async def sent_text(self, report_id: int) -> str | None:
        """The reporter's own text of a report a coordinator redacted; None if never redacted.
        For the reporter's private page only: nobody downstream of the coordinator sees it."""
        return await self.db.read(partial(reports.sent_text, report_id=report_id))

    async def report_for_staff(self, report_id: int, scope: Scope) -> Report | None:
        """The report if `scope` reaches it; None otherwise, as if it did not exist."""
        return await self.db.read(
            partial(reports.report_for_staff, report_id=report_id, scope=scope)
        )

    async def report_id_for_staff(self, code: str, scope: Scope) -> int | None:
        """The id of the report a canonical tracking code names, if `scope` reaches it."""
        return await self.db.read(partial(reports.report_id_for_staff, code=code, scope=scope))

    async def tracking_codes(self, report_ids: Sequence[int], scope: Scope) -> dict[int, str]:
        """Tracking codes of the reports `scope` reaches among `report_ids`."""
        return await self.db.read(
            partial(reports.tracking_codes, report_ids=report_ids, scope=scope)
        )

    async def count_reports(self) -> int:
        return await self.db.read(reports.count_reports)

    # -- feedback and monitoring -----------------------------------------------------------
    async def record_feedback(self, new: NewFeedback) -> FeedbackResult:
        """Store a quick rating or an IKM survey, committed before this returns. A resend with
        the same idempotency key and body returns the stored row (created=False); the same key
        with a different body raises FeedbackConflict; an unknown unit raises NotFound."""
        return await self.db.write(partial(feedback.record, new=new))

    async def monitoring(self, scope: Scope, root_path: str, period: Period) -> Raw:
        """Figures per entry unit and month for the reports `scope` reaches whose entry unit
        lies under `root_path`, received within `period`."""
        return await self.db.read(
            partial(monitoring.monitoring, scope=scope, root_path=root_path, period=period)
        )

    async def first_received_day(self, tz: ZoneInfo) -> date | None:
        """The local day the oldest report was received (the received_at index's first)."""

        moment = await self.db.read(monitoring.first_received)
        return moment.astimezone(tz).date() if moment else None

    async def monitoring_with_follow_up_dates(
        self, scope: Scope, root_path: str, period: Period
    ) -> tuple[Raw, dict[Key, dict[tuple[date, date], int]]]:
        """monitoring() and, read in the same transaction, the (forwarded, answered) local
        days the working-day calendar turns into the unit's time to answer."""

        def both(conn: Any) -> tuple[Raw, dict[Key, dict[tuple[date, date], int]]]:
            return (
                monitoring.monitoring(conn, scope, root_path, period),
                monitoring.follow_up_dates(conn, scope, root_path, period),
            )

        return await self.db.read(both)

    # -- workflow --------------------------------------------------------------------------
    async def forward_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        forwarding: Forwarding,
        follow_up_due: date,
    ) -> int:
        """Disposisi: the coordinator sends the report to a unit. Returns the new version."""
        return await self.db.write(
            partial(
                workflow.forward_report,
                report_id=report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                forwarding=forwarding,
                follow_up_due=follow_up_due,
            )
        )

    async def follow_up_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        answer: str,
        attachments: Sequence[NewPhoto] = (),
    ) -> int:
        """Tindak lanjut: the unit's officer answers the report, files attached."""
        return await self.db.write(
            partial(
                workflow.follow_up_report,
                report_id=report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                answer=answer,
                attachments=attachments,
            )
        )

    async def decide(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        action: Action,
        reason: str,
        duplicate_of: str | None,
        hand_to: HandOver | None = None,
    ) -> int:
        """Tunda, bukan wewenang (perhaps handing over) or archive (see store.workflow.decide)."""
        return await self.db.write(
            partial(
                workflow.decide,
                report_id=report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                action=action,
                reason=reason,
                duplicate_of=duplicate_of,
                hand_to=hand_to,
            )
        )

    async def classify_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        classification: Classification,
    ) -> int:
        """Change the title, category and tags the coordinator gave the report."""
        return await self.db.write(
            partial(
                workflow.classify_report,
                report_id=report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                classification=classification,
            )
        )

    async def redact_report(
        self, report_id: int, *, seen_version: int, actor: User, scope: Scope, redaction: Redaction
    ) -> int:
        """Replace the text others read and withhold photos; the original stays in the log."""
        return await self.db.write(
            partial(
                workflow.redact_report,
                report_id=report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                redaction=redaction,
            )
        )

    async def answered_reports(
        self, *, query: str, page: int, size: int
    ) -> list[publication.PublicAnswer]:
        """A page of the public list of answered reports, or of a search of it."""
        return await self.db.read(partial(publication.answered, query=query, page=page, size=size))

    async def answered_total(self, *, query: str) -> publication.Total:
        """How many reports the public list, or a search of it, holds."""
        return await self.db.read(partial(publication.total, query=query))

    async def set_list_hold(
        self,
        report_id: int,
        *,
        actor: User,
        scope: Scope,
        hold: ListHold | None,
        reason: str | None = None,
    ) -> None:
        """Keep a report off the public list with a reason, or let it on."""
        await self.db.write(
            partial(
                publication.set_hold,
                report_id=report_id,
                actor=actor,
                scope=scope,
                hold=hold,
                reason=reason,
                at=now(),
            )
        )

    async def add_note(self, report_id: int, *, actor: User, scope: Scope, note: str) -> None:
        """An internal note between staff. Notes never conflict, so no version is asked for."""
        await self.db.write(
            partial(workflow.add_note, report_id=report_id, actor=actor, scope=scope, note=note)
        )

    async def assignable_people(self, report_id: int, actor: User, scope: Scope) -> list[User]:
        """Who `actor` may hand the report to (see store.workflow.assignable_people)."""
        return await self.db.read(
            partial(workflow.assignable_people, report_id=report_id, actor=actor, scope=scope)
        )

    async def assign_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        assignee_id: int | None,
    ) -> int:
        """Give the report to one person (None: to nobody in particular)."""
        return await self.db.write(
            partial(
                workflow.assign_report,
                report_id=report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                assignee_id=assignee_id,
            )
        )

    async def extend_follow_up(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        new_due: Callable[[date], date],
        reason: str,
    ) -> int:
        """The coordinator gives the unit more time; `new_due` maps the old deadline."""
        return await self.db.write(
            partial(
                workflow.extend_follow_up,
                report_id=report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                new_due=new_due,
                reason=reason,
            )
        )

    async def reroute_report(
        self,
        report_id: int,
        *,
        seen_version: int,
        actor: User,
        scope: Scope,
        reason: str,
        verify_due: date,
    ) -> int:
        """The unit hands the report back to the coordinator's verification queue."""
        return await self.db.write(
            partial(
                workflow.reroute_report,
                report_id=report_id,
                seen_version=seen_version,
                actor=actor,
                scope=scope,
                reason=reason,
                verify_due=verify_due,
            )
        )

    async def reporter_acts(
        self,
        report_id: int,
        *,
        seen_version: int,
        action: Action,
        text: str | None = None,
        rating: int | None = None,
    ) -> int:
        """The reporter, through their private link: reply, or accept with a rating."""
        return await self.db.write(
            partial(
                workflow.reporter_acts,
                report_id=report_id,
                seen_version=seen_version,
                action=action,
                text=text,
                rating=rating,
            )
        )

    async def answered_before(
        self, cutoff: datetime, limit: int = 1000
    ) -> list[tuple[int, int, datetime]]:
        """(id, version, answered at) of reports waiting for their reporter since `cutoff`."""
        return await self.db.read(partial(workflow.answered_before, cutoff=cutoff, limit=limit))

    async def auto_close(self, report_id: int, *, seen_version: int) -> int:
        return await self.db.write(
            partial(workflow.auto_close, report_id=report_id, seen_version=seen_version)
        )

    # -- inbox -----------------------------------------------------------------------------
    async def inbox(
        self,
        scope: Scope,
        query: InboxQuery | None = None,
        *,
        today: date,
        soon_until: date | None = None,
        received_window: tuple[datetime | None, datetime | None] = (None, None),
        limit: int = 50,
        unrouted: bool = False,
    ) -> InboxPage:
        """One page of the reports `scope` reaches that match `query`. `unrouted` lists the
        reports nobody is responsible for yet (admins only). A search may stop before the
        oldest report (the page's `rest` says where to go on)."""
        if unrouted and scope.reach is not Reach.ALL:
            raise ValueError("only admins see unrouted reports")
        return await self.db.read(
            partial(
                inbox.inbox_page,
                scope=scope,
                query=query or InboxQuery(),
                today=today,
                soon_until=soon_until or today,
                received_window=received_window,
                limit=limit,
                unrouted=unrouted,
            )
        )

    async def similar_reports(
        self, report: Report, scope: Scope, limit: int = 5
    ) -> list[InboxItem]:
        """Open reports of the report's unit that look like it: candidates for "duplicate"."""
        return await self.db.read(
            partial(
                inbox.similar_reports,
                report_id=report.id,
                unit_id=report.unit_id,
                words=search.key_words(report.text),
                scope=scope,
                limit=limit,
            )
        )

    async def status_counts(self, scope: Scope) -> dict[Status, int]:
        return await self.db.read(partial(inbox.status_counts, scope=scope))

    async def export_page(
        self,
        scope: Scope,
        query: InboxQuery,
        *,
        today: date,
        soon_until: date,
        received_window: tuple[datetime | None, datetime | None],
        limit: int,
    ) -> tuple[list[Any], Cursor | None]:
        """One page of export rows (store.inbox.EXPORT_COLUMNS) in the query's order, and
        where a search that stopped short goes on (as `Store.inbox`)."""
        return await self.db.read(
            partial(
                inbox.export_page,
                scope=scope,
                query=query,
                today=today,
                soon_until=soon_until,
                received_window=received_window,
                limit=limit,
            )
        )

    # -- answer templates ------------------------------------------------------------------
    async def answer_templates(self, unit_ids: Sequence[int]) -> list[AnswerTemplate]:
        """Templates kept by the given units (the ones a member of staff may manage)."""
        return await self.db.read(partial(answers.answer_templates, unit_ids=unit_ids))

    async def templates_for(self, unit: Unit, category: str | None) -> list[AnswerTemplate]:
        """Templates of `unit` and the units above it, general or of `category`."""
        return await self.db.read(partial(answers.templates_for, unit=unit, category=category))

    async def save_answer_template(
        self,
        template_id: int | None,
        draft: AnswerTemplateDraft,
        actor: User,
        unit_ids: Sequence[int],
    ) -> int:
        """Create (`template_id` None) or replace a template; NotFound out of scope."""
        return await self.db.write(
            partial(
                answers.save_answer_template,
                template_id=template_id,
                draft=draft,
                actor=actor,
                unit_ids=unit_ids,
            )
        )

    async def delete_answer_template(self, template_id: int, unit_ids: Sequence[int]) -> None:
        await self.db.write(
            partial(answers.delete_answer_template, template_id=template_id, unit_ids=unit_ids)
        )

    # -- export jobs -----------------------------------------------------------------------
    async def create_export(self, user_id: int, query: str, rows_total: int | None) -> str:
        return await self.db.write(
            partial(exports.create_export, user_id=user_id, query=query, rows_total=rows_total)
        )

    async def export_job(self, token: str, user_id: int) -> ExportJob | None:
        """The job if it is this user's: nobody else may watch or download it."""
        return await self.db.read(partial(exports.export_job, token=token, user_id=user_id))

    async def claim_export(
        self, lease: timedelta = timedelta(seconds=30)
    ) -> tuple[ExportJob, StaffSession] | None:
        """The next export job to write, claimed for `lease` (see store.exports.claim_export)."""
        at = now()
        return await self.db.write(
            partial(
                exports.claim_export, skip_locked=not self.db.is_sqlite, at=at, until=at + lease
            )
        )

    async def renew_export(self, job: ExportJob, lease: timedelta) -> bool:
        return await self.db.write(partial(exports.renew_export, job=job, until=now() + lease))

    async def export_progress(self, job: ExportJob, rows_done: int) -> None:
        await self.db.write(partial(exports.export_progress, job=job, rows_done=rows_done))

    async def finish_export(
        self, job: ExportJob, *, rows_done: int, error: str | None = None
    ) -> bool:
        return await self.db.write(
            partial(exports.finish_export, job=job, rows_done=rows_done, error=error)
        )

    async def expire_exports(self, before: datetime) -> list[str]:
        """Forget jobs finished before `before`; returns their tokens (the files to delete)."""
        return await self.db.write(partial(exports.expire_exports, before=before))

    # -- reminders -------------------------------------------------------------------------
    async def queue_reminders(
        self,
        *,
        today: date,
        soon_until: date,
        flag_received_before: datetime,
        limit: int,
    ) -> int:
        """Queue the mails of every reminder now due, each once (see
        store.reminders.queue_reminders). Returns how many reminders were queued."""
        return await self.db.write(
            partial(
                reminders.queue_reminders,
                today=today,
                soon_until=soon_until,
                flag_received_before=flag_received_before,
                limit=limit,
            )
        )

    # -- leases on work one process does at a time (store/leases.py) ------------------------
    async def take_lease(self, name: str, holder: str, lease: timedelta) -> leases.Held | None:
        at = now()
        return await self.db.write(
            partial(leases.take, name=name, holder=holder, at=at, until=at + lease)
        )

    async def renew_lease(self, name: str, holder: str, lease: timedelta) -> bool:
        return await self.db.write(
            partial(leases.renew, name=name, holder=holder, until=now() + lease)
        )

    async def lease_ran(self, name: str, holder: str, at: datetime) -> bool:
        return await self.db.write(partial(leases.ran, name=name, holder=holder, at=at))

    async def release_lease(self, name: str, holder: str) -> None:
        await self.db.write(partial(leases.release, name=name, holder=holder))

    # -- outbox ----------------------------------------------------------------------------
    async def claim_outbox(self, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Take due messages for this sender alone (see store.outbox.claim)."""
        skip_locked = not self.db.is_sqlite
        return await self.db.write(
            lambda conn: outbox.claim(conn, limit, lease, now(), skip_locked=skip_locked)
        )

    async def renew_outbox(self, message: OutboxMessage, lease: timedelta) -> bool:
        """Extend this sender's claim on a message it is still sending (store.outbox.renew)."""
        return await self.db.write(lambda conn: outbox.renew(conn, message, until=now() + lease))

    async def finish_outbox(
        self,
        message: OutboxMessage,
        *,
        status: str,
        error: str | None = None,
        retry_at: datetime | None = None,
        provider_id: str | None = None,
    ) -> bool:
        """Record the outcome of a claimed message, with the words it was sent (or tried) in
        and the id the provider gave it (a WhatsApp message's wamid, which its delivery
        statuses name); False if the claim had expired and another sender took the message
        over (its outcome wins)."""
        values: dict[str, Any] = dict(
            status=status,
            claimed_until=None,
            claim_token=None,
            last_error=error,
            subject=message.subject,
            body=message.body,
        )
        if provider_id is not None:
            values["provider_id"] = provider_id
        if status == "sent":
            values["sent_at"] = now()
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        return await self.db.write(partial(outbox.finish, message=message, values=values))

    async def resend_outbox(self, message_id: int) -> None:
        await self.db.write(lambda conn: outbox.resend(conn, message_id, now()))

    async def queue_to(self, to_address: str, notice: AnyNotice) -> None:
        """A message about no report to a channel's address (a confirmation of STOP), due now."""
        await self.db.write(lambda conn: outbox.queue(conn, None, [to_address], notice, now()))

    # -- the conversation on the reporter's channel -----------------------------------------
    async def message_seen(self, key: str) -> bool:
        return await self.db.read(partial(conversation.message_seen, key=key))

    async def answered_report(self, address: str, codes: Sequence[str]) -> int | None:
        """The report a message from `address` answers (store.conversation.answered_report)."""
        return await self.db.read(
            partial(conversation.answered_report, address=address, codes=codes)
        )

    async def reporter_message(
        self,
        report_id: int,
        *,
        channel: str,
        text: str,
        key: str | None,
        photos: Sequence[NewPhoto] = (),
    ) -> tuple[bool, bool]:
        """(stored, answered): the reporter's message on their report (its photos put with the
        report's), their answer when it waits for them."""
        return await self.db.write(
            partial(
                conversation.reporter_message,
                report_id=report_id,
                channel=channel,
                text=text,
                key=key,
                at=now(),
                photos=photos,
            )
        )

    async def reporter_conversation(self, report_id: int) -> tuple[ChannelMessage, ...]:
        """The conversation as the reporter's private page shows it (store.conversation)."""
        return await self.db.read(partial(conversation.for_reporter, report_id=report_id))

    async def queue_reply(self, report_id: int, *, actor: User, scope: Scope, text: str) -> None:
        await self.db.write(
            partial(
                conversation.queue_reply,
                report_id=report_id,
                actor=actor,
                scope=scope,
                text=text,
                at=now(),
            )
        )

    async def delivery_report(self, outbox_id: int, *, delivered: bool) -> bool:
        return await self.db.write(
            partial(
                conversation.delivery_report, outbox_id=outbox_id, delivered=delivered, at=now()
            )
        )

    async def set_stopped(self, address: str, stopped: bool) -> None:
        at = now() if stopped else None
        await self.db.write(partial(conversation.set_stopped, address=address, at=at))

    async def set_blocked(self, address: str, blocked: bool, note: str = "") -> None:
        at = now() if blocked else None
        await self.db.write(partial(conversation.set_blocked, address=address, at=at, note=note))

    async def number_rules(self, address: str) -> tuple[bool, bool]:
        """(stopped, blocked) of a channel's address."""
        return await self.db.read(partial(conversation.number_rules, address=address))

    async def blocked_numbers(self) -> list[tuple[str, datetime, str | None]]:
        return await self.db.read(conversation.blocked)

    async def outbox_messages(self, ids: Sequence[int]) -> list[OutboxMessage]:
        return await self.db.read(partial(outbox.by_ids, ids=list(ids)))

    async def list_outbox(self, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
        return await self.db.read(partial(outbox.listed, status=status, limit=limit))

    # -- the national portal SP4N-LAPOR! (store/national.py) -------------------------------
    async def send_to_national(self, report_id: int, *, actor: User, scope: Scope) -> None:
        """Queue the report's delivery to the national portal (store.national.send)."""
        await self.db.write(
            partial(national.send, report_id=report_id, actor=actor, scope=scope, at=now())
        )

    async def report_to_send_national(self, report_id: int) -> Report:
        return await self.db.read(partial(national.report, report_id=report_id))

    async def national_sent(self, report_id: int, national_id: str) -> None:
        await self.db.write(
            partial(national.record_sent, report_id=report_id, national_id=national_id, at=now())
        )

    async def national_event(self, event: PortalEvent) -> bool | None:
        """(store.national.record_event) True: on the timeline; False: seen before; None: no
        report has its national tracking ID."""
        return await self.db.write(partial(national.record_event, event=event, at=now()))

    async def report_id_for_national_id(self, national_id: str, scope: Scope) -> int | None:
        return await self.db.read(
            partial(national.report_id_for_staff, national_id=national_id, scope=scope)
        )

    async def national_id_taken(self, national_id: str) -> bool:
        return await self.db.read(partial(national.national_id_taken, national_id=national_id))

    async def set_unit_sends_national(self, unit_id: int, sends: bool) -> Unit:
        unit = await self.db.write(partial(national.set_unit_sends, unit_id=unit_id, sends=sends))
        self._forget_units()
        return unit

    # -- WhatsApp (store/whatsapp.py) --------------------------------------------------------
    async def whatsapp_known(self, wamids: Sequence[str]) -> set[str]:
        return await self.db.read(partial(whatsapp.known, wamids=wamids))

    async def record_whatsapp(self, messages: Sequence[Inbound]) -> int:
        """Keep inbound messages by their id; how many were new."""
        return await self.db.write(partial(whatsapp.record, messages=messages, at=now()))

    async def claim_whatsapp(self, quiet: timedelta, lease: timedelta) -> whatsapp.Claimed | None:
        at = now()
        return await self.db.write(
            partial(whatsapp.claim, at=at, quiet_before=at - quiet, lease=lease)
        )

    async def renew_whatsapp(self, claimed: whatsapp.Claimed, lease: timedelta) -> bool:
        return await self.db.write(partial(whatsapp.renew, claimed=claimed, until=now() + lease))

    async def finish_whatsapp(
        self,
        claimed: whatsapp.Claimed,
        *,
        status: str,
        report_id: int | None = None,
        error: str | None = None,
    ) -> None:
        await self.db.write(
            partial(
                whatsapp.finish, claimed=claimed, status=status, report_id=report_id, error=error
            )
        )

    async def release_whatsapp(
        self, claimed: whatsapp.Claimed, *, error: str, delay: timedelta
    ) -> None:
        await self.db.write(
            partial(whatsapp.release, claimed=claimed, error=error, retry_at=now() + delay)
        )

    async def whatsapp_last_inbound(self, phone: str) -> datetime | None:
        return await self.db.read(partial(whatsapp.last_inbound, phone=phone))

    async def forget_whatsapp(self, older_than: timedelta) -> int:
        """Delete inbound WhatsApp messages handled longer ago than `older_than`."""
        return await self.db.write(partial(whatsapp.forget, before=now() - older_than))

    async def record_whatsapp_statuses(self, statuses: Sequence[WhatsAppStatus]) -> int:
        return await self.db.write(partial(whatsapp.record_statuses, statuses=statuses))
