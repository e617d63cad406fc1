"""Uploads are size-capped, type-checked by content, stored outside the web root under random
names, never replaced, and served only after a permission check."""

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


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("询问录音.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 32, "mp3"),
        ("录音.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32, "wav"),
        ("录音.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + b"\x00" * 32, "m4a"),
        ("录音.amr", b"#!AMR\n" + b"\x00" * 32, "amr"),
    ],
)
def test_audio_evidence_is_recognised_by_content(db, users, name, head, kind):
    register_file_purpose(
        "test_audio", kinds={"mp3", "wav", "m4a", "amr"}, can_read=lambda u, f: True
    )
    stored = file_store(upload=(name, head), purpose="test_audio", actor=users[Role.INSPECTOR])
    assert stored.path.endswith({"mp3": ".mp3", "wav": ".wav", "m4a": ".m4a", "amr": ".amr"}[kind])
    with pytest.raises(ValidationError):
        file_store(
            upload=(name, b"<html>not audio</html>"),
            purpose="test_audio",
            actor=users[Role.INSPECTOR],
        )


def test_visit_evidence_accepts_audio_recordings():
    import inspections.services.visits  # noqa: F401 - registers the visits' purposes
    from core.uploads import AUDIO_KINDS, file_purpose

    assert file_purpose("visit_evidence").kinds >= AUDIO_KINDS | {"jpeg", "png", "pdf"}
