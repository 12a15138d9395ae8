"""Who may see what of a report. Checked by views and queries, never only by templates."""

from __future__ import annotations

from complaints.reports import Identity

STAFF_ROLES = ("coordinator", "officer", "inspector", "admin")


def can_see_identity(role: str, identity: Identity) -> bool:
    """Named reporters are visible to staff who may see the report; a confidential (rahasia)
    reporter to coordinators alone; an anonymous one to nobody, since nothing is stored."""
    if identity is Identity.NAMED:
        return role in STAFF_ROLES
    if identity is Identity.CONFIDENTIAL:
        return role == "coordinator"
    return False


def sees_whole_tree(role: str) -> bool:
    return role == "admin"
