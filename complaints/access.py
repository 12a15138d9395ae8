"""Who may see what of a report. Checked by views and queries, never only by templates."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lapor.complaints.reports import Identity

STAFF_ROLES = ("coordinator", "officer", "inspector", "admin")


def can_see_identity(role: str, identity: Identity) -> bool:
    """Named reporters are visible to staff who may see the report; a confidential (rahasia)
    reporter to coordinators alone; an anonymous one to nobody, since nothing is stored."""
    if identity is Identity.NAMED:
        return role in STAFF_ROLES
    if identity is Identity.CONFIDENTIAL:
        return role == "coordinator"
    return False


def sees_redacted(role: str) -> bool:
    """Whether the text a coordinator redacted and the photos they withheld are still shown:
    redaction protects the reporter from everyone downstream of the coordinator."""
    return role in ("coordinator", "admin")


def sees_whole_tree(role: str) -> bool:
    return role == "admin"


class Reach(StrEnum):
    ALL = "all"  # admins
    SUBTREE = "subtree"  # coordinators and inspectors: reports routed inside their unit's subtree
    FORWARDED = "forwarded"  # officers: reports forwarded to their own unit


@dataclass(frozen=True)
class Scope:
    """Which reports a member of staff may see; every staff query of the store takes one."""

    reach: Reach
    unit_id: int
    unit_path: str  # "1/5/": the unit's materialised path
    user_id: int = 0  # who asks: "assigned to me" in the inbox


def scope_of(role: str, unit_id: int, unit_path: str, user_id: int = 0) -> Scope:
    if sees_whole_tree(role):
        return Scope(Reach.ALL, unit_id, unit_path, user_id)
    if role == "officer":
        return Scope(Reach.FORWARDED, unit_id, unit_path, user_id)
    return Scope(Reach.SUBTREE, unit_id, unit_path, user_id)
