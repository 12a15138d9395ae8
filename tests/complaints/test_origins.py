"""Origins as admins type them and as the loader claims them; the page URL a report keeps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lapor.complaints.origins import (
    InvalidOrigin,
    Problem,
    kept_page_url,
    normalize_origin,
    read_origins,
    registered,
)


@pytest.mark.parametrize(
    "typed, origin",
    [
        ("https://dinkes.example.go.id", "https://dinkes.example.go.id"),
        ("  HTTPS://Dinkes.Example.GO.ID:443/ ", "https://dinkes.example.go.id"),
        ("http://dinkes.example.go.id:80", "http://dinkes.example.go.id"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://dinkes.example.go.id:8443", "https://dinkes.example.go.id:8443"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://[0:0::1]:8443", "https://[::1]:8443"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origins_are_normalised_as_browsers_write_them(typed: str, origin: str) -> None:
    assert normalize_origin(typed) == origin


@pytest.mark.parametrize(
    "typed, problem",
    [
        ("javascript:alert(1)", Problem.SCHEME),
        ("JavaScript://dinkes.go.id", Problem.SCHEME),
        ("data:text/html,<b>x</b>", Problem.SCHEME),
        ("file:///etc/passwd", Problem.SCHEME),
        ("ftp://dinkes.go.id", Problem.SCHEME),
        ("dinkes.go.id", Problem.SCHEME),
        ("null", Problem.SCHEME),
        ("//dinkes.go.id", Problem.SCHEME),
        ("https://dinkes.go.id/layanan", Problem.PATH),
        ("https://dinkes.go.id?x=1", Problem.PATH),
        ("https://dinkes.go.id#top", Problem.PATH),
        ("https://admin@dinkes.go.id", Problem.PATH),
        ("https://*.dinkes.go.id", Problem.WILDCARD),
        ("https://dinkes.go.id:0", Problem.PORT),
        ("https://dinkes.go.id:70000", Problem.PORT),
        ("https://dinkes.go.id:http", Problem.PORT),
        ("https://dinkes.go.id:", Problem.PORT),
        ("https://", Problem.HOST),
        ("https://-dinkes.go.id", Problem.HOST),
        ("https://dinkes..go.id", Problem.HOST),
        ("https://dinkes go.id", Problem.HOST),
        ("https://dinkes.go.id;script-src", Problem.HOST),
        ("https://999.1.1.1", Problem.HOST),
        ("https://" + "a" * 300 + ".id", Problem.HOST),
    ],
)
def test_bad_origins_are_refused_with_the_reason(typed: str, problem: Problem) -> None:
    with pytest.raises(InvalidOrigin) as refused:
        normalize_origin(typed)
    assert refused.value.problem is problem


@given(st.text(max_size=80))
def test_a_normalised_origin_cannot_break_out_of_a_csp_header(typed: str) -> None:
    # It goes into frame-ancestors verbatim: no space, semicolon, comma or quote may survive.
    try:
        origin = normalize_origin(typed)
    except InvalidOrigin:
        return
    assert not any(c in origin for c in " ;,'\"\r\n\t")
    assert origin.startswith(("http://", "https://"))
    assert normalize_origin(origin) == origin


def test_read_origins_drops_duplicates_and_needs_one() -> None:
    assert read_origins(["https://a.go.id", "HTTPS://A.go.id/", "", "http://a.go.id"]) == [
        "https://a.go.id",
        "http://a.go.id",
    ]
    with pytest.raises(InvalidOrigin) as none:
        read_origins(["", "  "])
    assert none.value.problem is Problem.NONE
    with pytest.raises(InvalidOrigin) as many:
        read_origins([f"https://s{i}.go.id" for i in range(21)])
    assert many.value.problem is Problem.TOO_MANY
    with pytest.raises(InvalidOrigin):
        read_origins(["https://a.go.id", "javascript:x"])


ORIGINS = ("https://dinkes.go.id", "http://localhost:8080")


def test_the_loaders_claim_is_accepted_only_for_a_registered_origin() -> None:
    assert registered("https://dinkes.go.id", ORIGINS) == "https://dinkes.go.id"
    assert registered("https://DINKES.go.id:443", ORIGINS) == "https://dinkes.go.id"
    assert registered("http://dinkes.go.id", ORIGINS) is None  # another scheme, another site
    assert registered("https://dinkes.go.id.evil.example", ORIGINS) is None
    assert registered("http://localhost:8081", ORIGINS) is None
    assert registered("https://dinkes.go.id 'unsafe-inline'", ORIGINS) is None
    assert registered("", ORIGINS) is None


@pytest.mark.parametrize(
    "claimed, kept",
    [
        ("https://dinkes.go.id/layanan/pengaduan", "https://dinkes.go.id/layanan/pengaduan"),
        (
            "https://dinkes.go.id/cari?nik=6371010101010001&nama=Budi#hasil",
            "https://dinkes.go.id/cari",
        ),
        ("https://Dinkes.go.id:443/x?", "https://dinkes.go.id/x"),
        ("http://localhost:8080", "http://localhost:8080/"),
        ("https://evil.example/dinkes.go.id", None),
        ("http://dinkes.go.id/", None),
        ("https://user:pass@dinkes.go.id/", None),
        ("javascript:alert(1)", None),
        ("https://dinkes.go.id/" + "a" * 600, None),
        ("", None),
        ("not a url", None),
    ],
)
def test_the_page_url_is_kept_only_on_a_registered_origin_without_query(
    claimed: str, kept: str | None
) -> None:
    assert kept_page_url(claimed, ORIGINS) == kept
