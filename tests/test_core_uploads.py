"""Uploads are size-capped, type-checked by content, stored outside the web root under random
names, never replaced, and served only after a permission check."""

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from accounts.roles import Role
from audit.models import AuditEvent
from core.append_only import AppendOnlyError
from core.models import StoredFile
from core.uploads import file_store, register_file_purpose, safe_filename


def _png(width=2, height=2) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def purpose(db):
    return register_file_purpose(
        "test_photo",
        kinds={"png", "jpeg", "pdf"},
        can_read=lambda user, f: user.has_role(Role.INSPECTOR),
        max_bytes=200_000,
    )


def test_a_valid_photo_is_stored_outside_the_web_root_with_a_hash(purpose, users, settings):
    stored = file_store(
        upload=SimpleUploadedFile("现场照片.png", _png()),
        purpose="test_photo",
        actor=users[Role.INSPECTOR],
    )
    path = Path(settings.MEDIA_ROOT) / stored.path
    assert path.exists() and stored.original_name == "现场照片.png"
    assert stored.content_type == "image/png" and len(stored.sha256) == 64
    assert "现场照片" not in stored.path  # random name on disk
    assert not str(path).startswith(str(Path(settings.STATIC_ROOT)))
    assert AuditEvent.objects.filter(event_type="file.stored", object_id=str(stored.pk)).exists()


MALFORMED = [
    ("empty file", "a.png", b"", "为空"),
    ("script renamed to png", "a.png", b"<script>alert(1)</script>", "不是允许的类型"),
    ("html renamed to pdf", "a.pdf", b"<html><body>x</body></html>", "不是允许的类型"),
    ("exe renamed to jpg", "a.jpg", b"MZ\x90\x00\x03\x00\x00\x00", "不是允许的类型"),
    ("truncated png", "a.png", b"\x89PNG\r\n\x1a\n\x00\x00", "损坏"),
    ("decompression bomb png", "a.png", _png_header_claiming(50_000, 50_000), "像素过大"),
    ("oversized file", "a.pdf", b"%PDF-1.4\n" + b"0" * 300_000, "超过上限"),
    ("zip when only images and pdf", "a.png", b"PK\x03\x04" + b"\x00" * 30, "不是允许的类型"),
]


@pytest.mark.parametrize(
    ("case", "name", "data", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_uploads_are_refused_and_nothing_is_written(
    purpose, users, case, name, data, reason, settings
):
    before = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    with pytest.raises(ValidationError) as exc:
        file_store(
            upload=SimpleUploadedFile(name, data), purpose="test_photo", actor=users[Role.INSPECTOR]
        )
    assert reason in " ".join(exc.value.messages)
    assert not StoredFile.objects.exists()
    after = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.png", "cmd.png"),
        ("/abs/path/照片.jpg", "照片.jpg"),
        ("photo\u202egnp.exe", "photognp.exe"),  # right-to-left override removed
        ("a\x00b.png", "ab.png"),
        ("<script>.png", "script.png"),
        ("...", "file"),
        ("x" * 500 + ".png", "x" * 200),
    ],
)
def test_file_names_are_made_safe(raw, expected):
    assert safe_filename(raw) == expected


def test_a_traversal_name_cannot_escape_the_media_root(purpose, users, settings):
    stored = file_store(
        upload=SimpleUploadedFile("../../../../tmp/evil.png", _png()),
        purpose="test_photo",
        actor=users[Role.INSPECTOR],
    )
    target = (Path(settings.MEDIA_ROOT) / stored.path).resolve()
    assert target.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert stored.original_name == "evil.png"


def test_stored_files_are_never_replaced_or_deleted(purpose, users):
    stored = file_store(upload=("a.png", _png()), purpose="test_photo", actor=users[Role.INSPECTOR])
    with pytest.raises(AppendOnlyError):
        stored.save()
    with pytest.raises(AppendOnlyError):
        stored.delete()
    with pytest.raises(AppendOnlyError):
        StoredFile.objects.all().delete()
    newer = file_store(
        upload=("b.png", _png(3, 3)),
        purpose="test_photo",
        actor=users[Role.INSPECTOR],
        supersedes=stored,
    )
    assert newer.supersedes == stored and StoredFile.objects.count() == 2


def test_download_checks_the_purpose_permission(purpose, users, client_for):
    stored = file_store(upload=("a.png", _png()), purpose="test_photo", actor=users[Role.INSPECTOR])
    url = f"/files/{stored.pk}/"
    response = client_for(Role.INSPECTOR).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == _png()
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
    # The second line behind the content checks stays (issue 21 item 10).
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert client_for(Role.SECTION_STAFF).get(url).status_code == 403
    assert (
        client_for(Role.INSPECTOR).get("/files/00000000-0000-0000-0000-000000000000/").status_code
        == 404
    )


@override_settings(UPLOAD_MAX_BYTES=1000)
def test_the_global_cap_applies_when_a_purpose_sets_none(db, users):
    register_file_purpose("test_any", kinds={"pdf"}, can_read=lambda u, f: True)
    with pytest.raises(ValidationError):
        file_store(
            upload=("big.pdf", b"%PDF-1.4" + b"0" * 2000),
            purpose="test_any",
            actor=users[Role.INSPECTOR],
        )


# --- valid files of every kind, built here ----------------------------------------------------


def pdf_bytes(pages: int = 1) -> bytes:
    """A real (minimal) PDF, written by pypdf."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_with(**catalog) -> bytes:
    """A PDF whose catalog carries the given entries (values built with pypdf's objects)."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    for key, value in catalog.items():
        writer._root_object[NameObject(f"/{key}")] = value(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _js_action(writer):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('x')"),
        }
    )
    return writer._add_object(action)


def _launch_action(writer):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    return DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")}
    )


def _open_actions(writer):
    from pypdf.generic import DictionaryObject, NameObject

    return DictionaryObject({NameObject("/O"): _js_action(writer)})


def _encrypted_pdf(password: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password=password, owner_password="owner-secret", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_with_embedded_file() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("payload.exe", b"MZ\x90\x00")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_with_hex_escaped_javascript() -> bytes:
    """``/J#61vaScript``: the name written with an escape, for a scanner looking for bytes."""
    data = _pdf_with(OpenAction=_js_action)
    return data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")


def jpeg_with_exif() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    exif[0x0132] = "2026:03:01 10:00:00"  # DateTime
    exif[0x010F] = "WugangCam"  # Make
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def mp3_bytes(frames: int = 3, *, id3: bool = True) -> bytes:
    """MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417-byte frames after an ID3v2.4 tag."""
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 if id3 else b""
    return tag + (b"\xff\xfb\x90\x00" + b"\x00" * 413) * frames


def wav_bytes() -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    data = b"\x00\x00" * 800
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def m4a_bytes() -> bytes:
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    ftyp = box(b"ftyp", b"M4A \x00\x00\x00\x00M4A mp42isom")
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100))
    return ftyp + moov + box(b"mdat", b"\x00" * 64)


def amr_bytes() -> bytes:
    return b"#!AMR\n" + (b"\x3c" + b"\x00" * 31) * 5  # frame type 7 (12.2 kbit/s)


VALID = [
    ("询问录音.mp3", mp3_bytes(), "mp3"),
    ("无标签.mp3", mp3_bytes(id3=False), "mp3"),
    ("标签后补零.mp3", mp3_bytes(frames=0) + b"\x00" * 300 + mp3_bytes(id3=False), "mp3"),
    ("手机录音.m4a", m4a_bytes().replace(b"ftypM4A ", b"ftypmp42", 1), "m4a"),
    ("录音.wav", wav_bytes(), "wav"),
    ("录音.m4a", m4a_bytes(), "m4a"),
    ("录音.amr", amr_bytes(), "amr"),
    ("现场照片.jpg", jpeg_with_exif(), "jpeg"),
    ("现场照片.png", _png(), "png"),
    ("处罚决定书.pdf", pdf_bytes(2), "pdf"),
    ("限制编辑的公文.pdf", _encrypted_pdf(""), "pdf"),
]


@pytest.fixture
def any_purpose(db):
    return register_file_purpose(
        "test_any_kind",
        kinds={"mp3", "wav", "m4a", "amr", "jpeg", "png", "pdf"},
        can_read=lambda u, f: True,
    )


@pytest.mark.parametrize(("name", "data", "kind"), VALID, ids=[v[0] for v in VALID])
def test_a_valid_file_is_kept_byte_for_byte(any_purpose, users, settings, name, data, kind):
    """No re-encoding: the stored bytes are the upload's (a photo's EXIF stays)."""
    stored = file_store(upload=(name, data), purpose="test_any_kind", actor=users[Role.INSPECTOR])
    kept = (Path(settings.MEDIA_ROOT) / stored.path).read_bytes()
    assert hashlib.sha256(kept).hexdigest() == hashlib.sha256(data).hexdigest() == stored.sha256
    assert stored.path.endswith(
        {"mp3": ".mp3", "wav": ".wav", "m4a": ".m4a", "amr": ".amr", "jpeg": ".jpg"}.get(
            kind, f".{kind}"
        )
    )
    if kind == "jpeg":
        from PIL import Image

        assert Image.open(io.BytesIO(kept)).getexif()[0x010F] == "WugangCam"


# Content that passed the magic-byte check (issue 21 item 11): each is now refused by parsing.
HOSTILE = [
    ("html after a pdf header", "a.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>", "不是可接受的 PDF"),
    ("pdf, not parseable", "a.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "无法解析"),
    ("pdf with javascript openaction", "a.pdf", _pdf_with(OpenAction=_js_action), "JavaScript"),
    ("pdf with hex-escaped javascript", "a.pdf", pdf_with_hex_escaped_javascript(), "JavaScript"),
    ("pdf with /Launch", "a.pdf", _pdf_with(OpenAction=_launch_action), "/Launch"),
    ("pdf with /AA", "a.pdf", _pdf_with(AA=_open_actions), "/AA"),
    ("pdf with an embedded file", "a.pdf", pdf_with_embedded_file(), "嵌入文件"),
    ("pdf with an open password", "a.pdf", _encrypted_pdf("secret"), "已加密"),
    ("id3 then html", "a.mp3", b"ID3<html><script>alert(1)</script></html>", "不是有效的 .mp3 音频"),
    ("id3 tag then no frame", "a.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00<html>", "不是有效的 .mp3 音频"),
    ("frame sync then html", "a.mp3", b"\xff\xfb<html><script>x</script>", "不是有效的 .mp3 音频"),
    ("wav without fmt", "a.wav", b"RIFF\x24\x00\x00\x00WAVE<html><script>x</script>", "不是有效的 .wav 音频"),
    ("m4a with html after ftyp", "a.m4a", b"\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00M4A <html><script>", "不是有效的 .m4a 音频"),
    ("amr then html", "a.amr", b"#!AMR\n<html><script>alert(1)</script></html>", "不是有效的 .amr 音频"),
    ("jpeg with html appended", "a.jpg", jpeg_with_exif() + b"<html><script>alert(1)</script>", "网页或脚本"),
    ("truncated jpeg", "a.jpg", jpeg_with_exif()[:200], "损坏"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "name", "data", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_content_is_checked_by_parsing_and_nothing_is_written(
    any_purpose, users, settings, case, name, data, reason
):
    before = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    with pytest.raises(ValidationError) as exc:
        file_store(upload=(name, data), purpose="test_any_kind", actor=users[Role.INSPECTOR])
    message = " ".join(exc.value.messages)
    assert reason in message and f"“{name}”" in message, case
    assert not StoredFile.objects.exists()
    assert {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()} == before


def test_a_jpeg_with_a_binary_trailer_is_kept(any_purpose, users):
    """Phones append binary data after a JPEG's end (MPF pictures, maker trailers): kept."""
    data = jpeg_with_exif() + b"\x00SEFH\x01\x02" + bytes(range(256))
    stored = file_store(
        upload=("a.jpg", data), purpose="test_any_kind", actor=users[Role.INSPECTOR]
    )
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_visit_evidence_accepts_audio_recordings():
    import inspections.services.visits  # noqa: F401 - registers the visits' purposes
    from core.uploads import AUDIO_KINDS, file_purpose

    assert file_purpose("visit_evidence").kinds >= AUDIO_KINDS | {"jpeg", "png", "pdf"}
