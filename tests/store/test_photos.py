"""PhotoStore.process keeps none of the metadata a photo arrives with, whatever carries it.

Each case puts a marker of its own in one carrier of one accepted format (EXIF with a GPS IFD,
XMP, an ICC profile, IPTC, PNG text chunks, a JPEG comment) and looks for it in the bytes kept.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageCms, JpegImagePlugin, PngImagePlugin

from lapor.store.photo_files import FilePhotoStore

# What Pillow reports in `info` when it finds a metadata carrier in a file it opens.
METADATA_KEYS = {
    "exif",
    "xmp",
    "XML:com.adobe.xmp",
    "icc_profile",
    "comment",
    "photoshop",
    "iptc",
    "adobe",
    "mp",
    "mpinfo",
}


def _image() -> Image.Image:
    # Not a flat colour, so a lossy re-encode still has something to look like.
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    for x in range(32):
        for y in range(48):
            image.putpixel((x, y), (20, 40, 220))
    return image


def _exif(marker: str) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = marker  # Make
    exif[0x8825] = {1: "S", 2: (6.0, 10.0, 0.0), 0x001B: marker}  # GPS, with a processing method
    return exif


def _icc(marker: str) -> bytes:
    profile = ImageCms.createProfile("sRGB")
    data = ImageCms.ImageCmsProfile(profile).tobytes()
    # A description tag would be tidier, but the bytes only need to be an ICC profile that
    # carries the marker: append it after the tag data (the header's size is fixed up).
    data += marker.encode()
    return struct.pack(">I", len(data)) + data[4:]


def _xmp(marker: str) -> bytes:
    return (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="'
        + marker.encode()
        + b'"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )


def _iptc_app13(marker: str) -> bytes:
    """A Photoshop APP13 segment holding an IPTC record with the marker as its byline."""
    value = marker.encode()
    iptc = b"\x1c\x02\x50" + struct.pack(">H", len(value)) + value  # 2:80 By-line
    if len(iptc) % 2:
        iptc += b"\0"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iptc)) + iptc
    payload = b"Photoshop 3.0\0" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _with_segment(jpeg: bytes, segment: bytes) -> bytes:
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + segment + jpeg[2:]


def _save(fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    _image().save(out, fmt, **params)
    return out.getvalue()


def _png_text(marker: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", marker + "-tEXt")
    info.add_text("Author", marker + "-zTXt", zip=True)
    info.add_itxt("Description", marker + "-iTXt", lang="id", tkey="Keterangan")
    info.add_itxt("XML:com.adobe.xmp", _xmp(marker + "-xmp").decode())
    return _save("PNG", pnginfo=info)


def _text_chunk(key: str, value: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info


CASES: dict[str, Callable[[str], bytes]] = {
    "jpeg-comment": lambda m: _save("JPEG", comment=m.encode()),
    "jpeg-exif-gps": lambda m: _save("JPEG", exif=_exif(m).tobytes()),
    "jpeg-icc": lambda m: _save("JPEG", icc_profile=_icc(m)),
    "jpeg-xmp": lambda m: _save("JPEG", xmp=_xmp(m)),
    "jpeg-iptc": lambda m: _with_segment(_save("JPEG"), _iptc_app13(m)),
    "png-text": _png_text,
    # Pillow's JPEG encoder takes a source's info["comment"] as its own COM segment.
    "png-comment": lambda m: _save("PNG", pnginfo=_text_chunk("comment", m)),
    "png-icc": lambda m: _save("PNG", icc_profile=_icc(m)),
    "png-exif": lambda m: _save("PNG", exif=_exif(m).tobytes()),
    "webp-exif": lambda m: _save("WEBP", exif=_exif(m).tobytes()),
    "webp-xmp": lambda m: _save("WEBP", xmp=_xmp(m)),
    "webp-icc": lambda m: _save("WEBP", icc_profile=_icc(m)),
}


def _rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    pixel = image.convert("RGB").getpixel(xy)
    assert isinstance(pixel, tuple)
    r, g, b = pixel
    return int(r), int(g), int(b)


def _is_blue(image: Image.Image, xy: tuple[int, int]) -> bool:
    r, _, b = _rgb(image, xy)
    return b > 150 and r < 80


def _is_red(image: Image.Image, xy: tuple[int, int]) -> bool:
    r, _, b = _rgb(image, xy)
    return r > 150 and b < 80


@pytest.fixture
async def photos(tmp_path: Path) -> FilePhotoStore:
    store = FilePhotoStore(tmp_path, max_bytes=5_000_000, max_pixels=50_000_000, max_side=1600)
    await store.prepare()
    return store


def parked(photos: FilePhotoStore, name: str) -> bytes:
    data = photos.read_parked_or_kept(name)
    assert data is not None
    return data


@pytest.mark.parametrize("case", sorted(CASES))
async def test_no_metadata_survives(photos: FilePhotoStore, case: str) -> None:
    marker = f"MARKER-{case}-7f3a"
    sent = CASES[case](marker)
    with Image.open(io.BytesIO(sent)) as original:  # compressed chunks hide it from a scan
        carried = sent + repr(original.info).encode() + original.getexif().tobytes()
    assert marker.encode() in carried, "the case really carries its marker"
    processed = await photos.process(sent)
    kept = parked(photos, processed.name)
    assert b"MARKER-" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert isinstance(image, JpegImagePlugin.JpegImageFile)
        assert not METADATA_KEYS & set(image.info)
        assert not image.getexif()
        # Only the JFIF header Pillow writes itself: no APPn segment, no COM of the original.
        assert [app for app, _ in image.applist] == ["APP0"]
        # What the photo looks like is kept: left half blue, right half red.
        assert _is_blue(image, (8, 24)) and _is_red(image, (56, 24))


async def test_orientation_is_applied_before_exif_is_dropped(photos: FilePhotoStore) -> None:
    exif = _exif("MARKER-orientation")
    exif[0x0112] = 6  # rotate 90° clockwise to show
    sent = _save("JPEG", exif=exif.tobytes())
    processed = await photos.process(sent)
    kept = parked(photos, processed.name)
    assert b"MARKER-" not in kept
    assert (processed.width, processed.height) == (48, 64)
    with Image.open(io.BytesIO(kept)) as image:
        assert image.size == (48, 64)
        assert not image.getexif()
        # The blue left half of the sensor's picture is the top once turned upright.
        assert _is_blue(image, (24, 8)) and _is_red(image, (24, 56))


async def test_a_long_png_comment_is_dropped_not_an_error(photos: FilePhotoStore) -> None:
    # A JPEG comment holds at most 65533 bytes: carried over from a PNG, a longer one made the
    # JPEG encoder refuse the photo with a ValueError outside the checks.
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "MARKER-" + "x" * 70_000, zip=True)
    processed = await photos.process(_save("PNG", pnginfo=info))
    assert b"MARKER-" not in parked(photos, processed.name)


async def test_a_photo_with_broken_exif_is_kept_without_a_warning(
    photos: FilePhotoStore,
) -> None:
    # Found by the fuzzer (tests/fuzz): EXIF whose directory is cut short made Pillow warn
    # "Corrupt EXIF data" from inside Image.open, which is a 500 where warnings are errors and
    # a line of noise in the log otherwise. Phones write such EXIF; the pixels are fine.
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00"  # one entry announced, none there
    processed = await photos.process(_save("JPEG", exif=exif))
    assert (processed.width, processed.height) == (64, 48)
    with Image.open(io.BytesIO(parked(photos, processed.name))) as image:
        assert not image.getexif()
