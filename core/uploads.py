"""Safe uploads: size-capped, type-checked by content (never by name or browser header),
stored outside the web root under a random name, hashed, and served only through
``core.views.file_download`` after the purpose's permission check.

Each purpose registers who may read its files::

    register_file_purpose("visit_photo", kinds={"jpeg", "png"}, can_read=lambda user, f: ...)
"""

import hashlib
import io
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from PIL import Image

from audit.services import audit_record

from .models import StoredFile

# Magic numbers of the kinds we accept. Anything else is refused whatever its name says.
KINDS = {
    "pdf": ("application/pdf", ".pdf"),
    "png": ("image/png", ".png"),
    "jpeg": ("image/jpeg", ".jpg"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "zip": ("application/zip", ".zip"),
    # Audio evidence (interviews on site): MP3, WAV, M4A/AAC and the AMR of phone recorders.
    "mp3": ("audio/mpeg", ".mp3"),
    "wav": ("audio/wav", ".wav"),
    "m4a": ("audio/mp4", ".m4a"),
    "amr": ("audio/amr", ".amr"),
}
AUDIO_KINDS = frozenset({"mp3", "wav", "m4a", "amr"})
IMAGE_KINDS = {"png", "jpeg"}
MAX_IMAGE_PIXELS = 40_000_000  # a 40-megapixel photo; more is a decompression bomb


def sniff_kind(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return "zip"  # xlsx is a zip; callers that want xlsx check the inside
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso", b"3gp"):
        return "m4a"
    if head.startswith(b"#!AMR"):
        return "amr"
    return None


def safe_filename(name: str) -> str:
    """The name shown to users: no directories, no control or bidi characters, bounded."""
    name = unicodedata.normalize("NFC", name or "")
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(
        c for c in name if unicodedata.category(c)[0] != "C" and c not in '<>:"/\\|?*'
    ).strip(" .")
    return (name or "file")[:200]


@dataclass(frozen=True)
class FilePurpose:
    code: str
    kinds: frozenset[str]
    can_read: Callable
    max_bytes: int | None = None


_PURPOSES: dict[str, FilePurpose] = {}


def register_file_purpose(code, *, kinds, can_read, max_bytes=None) -> FilePurpose:
    purpose = FilePurpose(code, frozenset(kinds), can_read, max_bytes)
    _PURPOSES[code] = purpose
    return purpose


def file_purpose(code: str) -> FilePurpose:
    try:
        return _PURPOSES[code]
    except KeyError:
        raise ValidationError(f"未知的文件用途：{code}") from None


def _check_image(data: bytes) -> None:
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError("图片像素过大，疑似恶意文件。")
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("图片像素过大，疑似恶意文件。") from None
    except ValidationError:
        raise
    except Exception:
        raise ValidationError("图片文件已损坏或不是有效图片。") from None


def validate_upload(*, data: bytes, name: str, purpose: FilePurpose) -> str:
    """Return the sniffed kind, or raise ValidationError with a Chinese reason."""
    cap = purpose.max_bytes or settings.UPLOAD_MAX_BYTES
    if len(data) == 0:
        raise ValidationError(f"文件“{safe_filename(name)}”为空。")
    if len(data) > cap:
        raise ValidationError(
            f"文件“{safe_filename(name)}”大小 {len(data) // 1024} KB，超过上限 {cap // 1024} KB。"
        )
    kind = sniff_kind(data[:16])
    if kind == "zip" and "xlsx" in purpose.kinds:
        kind = "xlsx"
    if kind not in purpose.kinds:
        allowed = "、".join(sorted(KINDS[k][1] for k in purpose.kinds))
        raise ValidationError(
            f"文件“{safe_filename(name)}”的内容不是允许的类型（允许：{allowed}）。"
        )
    if kind in IMAGE_KINDS:
        _check_image(data)
    return kind


@transaction.atomic
def file_store(*, upload, purpose: str, actor, supersedes: StoredFile | None = None):
    """Validate and store an uploaded file (Django UploadedFile or (name, bytes))."""
    spec = file_purpose(purpose)
    if isinstance(upload, tuple):
        name, data = upload
    else:
        cap = spec.max_bytes or settings.UPLOAD_MAX_BYTES
        if upload.size is not None and upload.size > cap:
            raise ValidationError(
                f"文件“{safe_filename(upload.name)}”大小 {upload.size // 1024} KB，"
                f"超过上限 {cap // 1024} KB。"
            )
        name, data = upload.name, upload.read(cap + 1)
    kind = validate_upload(data=data, name=name, purpose=spec)
    file_id = uuid.uuid4()
    relative = f"{purpose}/{timezone.localdate():%Y/%m}/{file_id.hex}{KINDS[kind][1]}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as handle:  # "x": never overwrite an existing file
        handle.write(data)
    stored = StoredFile(
        id=file_id,
        purpose=purpose,
        original_name=safe_filename(name),
        content_type=KINDS[kind][0],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=relative,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        supersedes=supersedes,
    )
    stored.save(force_insert=True)
    audit_record(
        event_type="file.stored",
        actor=actor,
        obj=stored,
        detail={
            "purpose": purpose,
            "name": stored.original_name,
            "sha256": stored.sha256,
            "size": stored.size,
            "supersedes": str(supersedes.pk) if supersedes else None,
        },
    )
    # If the transaction rolls back, the orphan file on disk is harmless: nothing points at it
    # and its name is random.
    return stored


def file_open(stored: StoredFile):
    path = (Path(settings.MEDIA_ROOT) / stored.path).resolve()
    if not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
        raise ValidationError("非法的文件路径。")
    return open(path, "rb")
