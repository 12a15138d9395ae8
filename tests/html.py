"""Reading the HTML a test gets back, typed.

BeautifulSoup answers a look-up with `Tag | NavigableString | None` and an attribute with
`str | AttributeValueList` (a list for the multi-valued ones such as `class`). A test that expects
an element or a plain attribute says so through these: each returns the narrowed value or fails
the test naming what was missing, where the bare expression would have failed on `None` with an
AttributeError or TypeError.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from bs4.element import PageElement, Tag


def tag(found: PageElement | None, what: str = "the element") -> Tag:
    """`found` as an element: fails the test when the look-up found nothing (or only text)."""
    if not isinstance(found, Tag):
        pytest.fail(f"{what} is not on the page (found {found!r})")
    return found


def one(page: Tag, selector: str) -> Tag:
    """The first element matching the CSS `selector`, as `select_one` finds it, or a failure."""
    return tag(page.select_one(selector), f"an element matching {selector!r}")


def attr(element: Tag, name: str, default: str | None = None) -> str:
    """The attribute's one value; `default` when it is absent, if given, else a failure. A
    multi-valued attribute (`class`, `rel`, ...) is a list: read that with `element[name]`."""
    value = element.get(name)
    if value is None:
        if default is not None:
            return default
        pytest.fail(f"<{element.name}> has no {name!r} attribute")
    if not isinstance(value, str):
        pytest.fail(f"<{element.name}> {name!r} holds several values: {value!r}")
    return value


def field_values(inputs: Iterable[Tag]) -> dict[str, str]:
    """A form's inputs as the browser would post them: name to value, `""` for no value."""
    return {attr(i, "name"): attr(i, "value", "") for i in inputs}
