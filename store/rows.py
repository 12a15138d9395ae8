"""Rows to records: how the store turns what it reads into the domain's records, so that no
caller sees a SQLAlchemy row and the domain knows nothing of columns."""

from __future__ import annotations

from typing import Any

from lapor.complaints.conversation import ChannelMessage, channel_of
from lapor.complaints.records import (
    AnswerTemplate,
    Event,
    ExportJob,
    Kiosk,
    Photo,
    Poster,
    Report,
    Unit,
    User,
    Widget,
)
from lapor.complaints.reports import Channel, Identity, Kind, Status


def unit(row: Any) -> Unit:
    # A unit joined to another table may come without its limits.
    return Unit(
        row.id,
        row.slug,
        row.name,
        row.parent_id,
        row.path,
        getattr(row, "verify_days", None),
        getattr(row, "follow_up_days", None),
        getattr(row, "sms_word", None),
        bool(getattr(row, "sends_national", False)),
    )


def user(row: Any) -> User:
    return User(row.id, row.email, row.role, row.unit_id, row.active, row.password_hash, row.name)


def poster(row: Any) -> Poster:
    return Poster(
        row.id,
        row.unit_id,
        row.label,
        row.version,
        row.created_at,
        row.revoked_at,
        getattr(row, "unit_slug", ""),
        getattr(row, "unit_name", ""),
    )


def widget(row: Any) -> Widget:
    return Widget(
        row.id,
        row.unit_id,
        tuple(o for o in row.origins.split("\n") if o),
        row.version,
        row.created_at,
        row.revoked_at,
        getattr(row, "unit_slug", ""),
        getattr(row, "unit_name", ""),
    )


def kiosk(row: Any) -> Kiosk:
    return Kiosk(
        row.id,
        row.unit_id,
        row.name,
        row.version,
        row.created_at,
        row.paired_at,
        row.revoked_at,
        row.pairing_expires_at,
        row.last_seen_at,
        row.queue_length,
        row.oldest_queued_at,
        row.app_version,
        row.storage_persistent,
        row.clock_offset_ms,
        getattr(row, "unit_slug", ""),
        getattr(row, "unit_name", ""),
        getattr(row, "codes_held", 0) or 0,
        row.credential_hash,
        row.limited_count,
        row.limited_at,
    )


def answer_template(row: Any) -> AnswerTemplate:
    return AnswerTemplate(
        row.id,
        row.unit_id,
        row.unit_name,
        row.category,
        row.title,
        row.body,
        row.updated_at,
        row.email,
    )


def export_job(row: Any) -> ExportJob:
    return ExportJob(
        row.id,
        row.token,
        row.user_id,
        row.query,
        row.status,
        row.rows_done,
        row.rows_total,
        row.error,
        row.created_at,
        row.finished_at,
        row.claim_token,
        row.file_token,
    )


def photo(row: Any) -> Photo:
    return Photo(
        row.id,
        row.position,
        row.filename,
        row.content_type,
        row.width,
        row.height,
        row.size_bytes,
        row.withheld,
    )


def event(row: Any, attachments: tuple[Photo, ...]) -> Event:
    return Event(
        row.id,
        row.at,
        row.kind,
        row.from_status,
        row.to_status,
        row.note,
        row.public,
        row.email,
        attachments,
        getattr(row, "actor_name", None),
    )


def report(
    row: Any,
    photos: tuple[Photo, ...],
    events: tuple[Event, ...],
    messages: tuple[ChannelMessage, ...] = (),
) -> Report:
    return Report(
        id=row.id,
        tracking_code=row.tracking_code,
        kind=Kind(row.kind),
        status=Status(row.status),
        text=row.text,
        location=row.location,
        identity=Identity(row.identity),
        reporter_name=row.reporter_name,
        reporter_phone=row.reporter_phone,
        reporter_email=row.reporter_email,
        channel=Channel(row.channel),
        unit_id=row.unit_id,
        unit_name=row.unit_name,
        poster_id=row.poster_id,
        poster_label=row.poster_label,
        routed_unit_id=row.routed_unit_id,
        routed_unit_name=row.routed_name,
        language=row.language,
        received_at=row.received_at,
        verify_due=row.verify_due,
        photos=photos,
        events=events,
        version=row.version,
        title=row.title,
        forwarded_unit_id=row.forwarded_unit_id,
        forwarded_unit_name=row.forwarded_name,
        follow_up_due=row.follow_up_due,
        rating=row.rating,
        idempotency_key=row.idempotency_key,
        due_on=row.due_on,
        category=row.category,
        tags=tuple(row.tags.split(",")) if row.tags else (),
        assigned_user_id=row.assigned_user_id,
        taken_via=row.taken_via,
        widget_id=row.widget_id,
        page_url=row.page_url,
        kiosk_id=row.kiosk_id,
        kiosk_name=row.kiosk_name,
        reported_at=row.reported_at,
        reporter_secret_hash=row.reporter_secret_hash,
        api_client=row.api_client,
        latitude=row.latitude,
        longitude=row.longitude,
        media_url=row.media_url,
        reply_channel=channel_of(row.reply_address) if row.reply_address else None,
        messages=messages,
        list_hold=row.list_hold,
        list_hold_reason=row.list_hold_reason,
        national_id=row.national_id,
    )
