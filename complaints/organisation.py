"""The organisation as admins type it in: unit slugs and names, staff e-mail addresses and
roles, poster labels. Rules only, no HTTP and no SQL: the operator commands and the admin pages
read through the same functions, so what one refuses the other refuses too."""

from __future__ import annotations

import re
from enum import StrEnum

from lapor.complaints.access import STAFF_ROLES

# A slug is typed on command lines and read in URLs and logs: short, lowercase, no spaces.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
# Deliberately loose: the address is checked for real by the mail it receives, this only
# catches a name typed into the wrong field.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL = 254
MAX_NAME = 200  # units.name and posters.label are String(200)
MAX_PERSON_NAME = 120  # users.name is String(120)


class Problem(StrEnum):
    SLUG = "slug"
    NAME = "name"
    EMAIL = "email"
    ROLE = "role"
    LABEL = "label"
    PERSON_NAME = "person_name"


class Invalid(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def read_slug(raw: str) -> str:
    slug = raw.strip().lower()
    if not SLUG.fullmatch(slug):
        raise Invalid(Problem.SLUG)
    return slug


def _text(raw: str, problem: Problem) -> str:
    # Runs of whitespace (a pasted line break, a double space) become one space: the name is
    # printed on posters and shown in lists, where stray whitespace only confuses.
    text = " ".join(raw.split())
    if not text or len(text) > MAX_NAME:
        raise Invalid(problem)
    return text


def read_name(raw: str) -> str:
    return _text(raw, Problem.NAME)


def read_label(raw: str) -> str:
    return _text(raw, Problem.LABEL)


def read_person_name(raw: str) -> str | None:
    """A staff member's name as colleagues and the timeline show it; empty: none given."""
    name = " ".join(raw.split())
    if len(name) > MAX_PERSON_NAME or any(not c.isprintable() for c in name):
        raise Invalid(Problem.PERSON_NAME)
    return name or None


def read_email(raw: str) -> str:
    """Lowercased and trimmed, as the store keeps it: one person, one account."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email):
        raise Invalid(Problem.EMAIL)
    return email


def read_role(raw: str) -> str:
    if raw not in STAFF_ROLES:
        raise Invalid(Problem.ROLE)
    return raw
