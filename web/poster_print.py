"""From posters in the store to the sheets web/posters.py prints: what a poster says depends on
its unit (the organisation at the top of its tree, the unit's SMS word) and on the settings
(the base URL, the deployment's own SMS number). `lapor poster print` and the admin's
downloads both come through here, so a poster reads the same whichever printed it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from lapor.complaints.records import Poster, Unit
from lapor.settings import Settings
from lapor.store.store import Store
from lapor.web.posters import Sheet
from lapor.web.signing import Signing

# The national channels of SP4N-LAPOR!, on every poster whatever the deployment offers.
NATIONAL_SITE = "lapor.go.id"
NATIONAL_SMS = "1708"


def channels(settings: Settings, unit: Unit | None) -> tuple[str, ...]:
    """The official channels a poster lists besides itself: the national site and SMS number,
    and the deployment's own SMS number when it receives text messages (with the words that
    send a report straight to the poster's unit)."""
    listed = [NATIONAL_SITE, f"SMS {NATIONAL_SMS}"]
    sms = settings.sms
    if sms.enabled and sms.sender:
        words = " ".join(w for w in (sms.keywords[0], unit.sms_word if unit else None) if w)
        own = f"SMS {words} ke {sms.sender}"
        if sms.sender == NATIONAL_SMS:
            listed[1] = own  # the same number: say once how to write to it
        else:
            listed.append(own)
    return tuple(listed)


def today(settings: Settings) -> date:
    """The print date on a poster: the deployment's calendar day."""
    return datetime.now(settings.timezone).date()


def sheets(
    settings: Settings,
    signing: Signing,
    units: Sequence[Unit],
    posters: Sequence[Poster],
    printed_on: date,
) -> list[Sheet]:
    """One sheet per poster; `units` is the whole tree (store.list_units)."""
    by_id = {unit.id: unit for unit in units}
    made = []
    for poster in posters:
        unit = by_id.get(poster.unit_id)
        root = by_id.get(unit.ancestor_ids[-1]) if unit else None
        made.append(
            Sheet(
                url=signing.poster_url(settings.base_url, poster.id, poster.version),
                unit_name=poster.unit_name,
                label=poster.label,
                organisation=root.name if root else poster.unit_name,
                poster_id=poster.id,
                version=poster.version,
                printed_on=printed_on,
                channels=channels(settings, unit),
            )
        )
    return made


def in_subtree(units: Sequence[Unit], posters: Sequence[Poster], top: Unit) -> list[Poster]:
    """The posters of `top` and of every unit below it, unit by unit in tree order: every
    counter of an office, to print in one go."""
    order = {unit.id: i for i, unit in enumerate(units) if unit.path.startswith(top.path)}
    kept = [poster for poster in posters if poster.unit_id in order]
    return sorted(kept, key=lambda poster: (order[poster.unit_id], poster.id))


async def unit_sheets(
    store: Store, settings: Settings, signing: Signing, top: Unit, printed_on: date
) -> list[Sheet]:
    """The sheets of every poster of `top` and its sub-units; empty when there are none."""
    units = await store.list_units()
    posters = in_subtree(units, await store.list_posters(None), top)
    return sheets(settings, signing, units, posters, printed_on)


async def poster_sheet(
    store: Store, settings: Settings, signing: Signing, poster: Poster, printed_on: date
) -> Sheet:
    return sheets(settings, signing, await store.list_units(), [poster], printed_on)[0]
