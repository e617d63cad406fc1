"""Safe uploads: size-capped, type-checked by content (never by name or browser header),
stored outside the web root under a random name, hashed, and served only through
``core.views.file_download`` after the purpose's permission check.

Each purpose registers who may read its files::

    register_file_purpose("visit_photo", kinds={"jpeg", "png"}, can_read=lambda user, f: ...)
"""

import hashlib
import io
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from audit.services import audit_record

from .models import StoredFile
from .spreadsheets import SpreadsheetError, zip_guard

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
    can_read: Callable[..., Any]
    max_bytes: int | None = None


_PURPOSES: dict[str, FilePurpose] = {}


def register_file_purpose(
    code: str,
    *,
    kinds: Iterable[str],
    can_read: Callable[..., Any],
    max_bytes: int | None = None,
) -> FilePurpose:
    purpose = FilePurpose(code, frozenset(kinds), can_read, max_bytes)
    _PURPOSES[code] = purpose
    return purpose


def file_purpose(code: str) -> FilePurpose:
    try:
        return _PURPOSES[code]
    except KeyError:
        raise ValidationError(f"未知的文件用途：{code}") from None


# Markup anywhere in an image: phones append binary trailers (MPF pictures, maker data) after
# the image's end marker, which decoding ignores and we keep; HTML or script there is an attack.
# Long, exact tags only: a short one (``<svg``) turns up by chance in ~1 of 4,000 5 MB photos.
_MARKUP = re.compile(rb"<(?:script|html|iframe)[\s>]|<\?php\s", re.I)


def _check_image(data: bytes, shown: str) -> None:
    """Fully decoded (``load()``, within the pixel cap), never re-encoded: the stored bytes are
    the uploaded ones, EXIF included."""
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("文件“%(name)s”图片像素过大，疑似恶意文件。") % {"name": shown}
        ) from None
    except Exception:
        raise ValidationError(
            _("文件“%(name)s”图片已损坏或不是有效图片（无法完整解码）。") % {"name": shown}
        ) from None
    if _MARKUP.search(data):
        raise ValidationError(
            _("文件“%(name)s”的图片数据中夹带网页或脚本代码，已拒绝。") % {"name": shown}
        )


# PDF names that run code, start programs or carry other files; and the action types that do.
_PDF_FORBIDDEN_KEYS = {
    "/JavaScript": N_("JavaScript 脚本"),
    "/JS": N_("JavaScript 脚本"),
    "/AA": N_("自动执行动作（/AA）"),
    "/Launch": N_("启动外部程序（/Launch）"),
    "/EmbeddedFile": N_("嵌入文件"),
    "/EmbeddedFiles": N_("嵌入文件"),
    "/RichMedia": N_("多媒体内容（/RichMedia）"),
    "/XFA": N_("XFA 动态表单"),
}
_PDF_FORBIDDEN_ACTIONS = {
    "/JavaScript": N_("JavaScript 脚本"),
    "/Launch": N_("启动外部程序（/Launch）"),
    "/ImportData": N_("导入数据动作"),
    "/SubmitForm": N_("提交表单动作"),
    "/GoToE": N_("打开嵌入文件的动作"),
    "/RichMediaExecute": N_("多媒体执行动作"),
}
PDF_MAX_OBJECTS = 1_000_000  # a walk past this many objects is refused (a 500-page scan has ~10^4)


def _pdf_refusal(data: bytes) -> str | None:
    """The reason a PDF is refused (it does not parse, is encrypted, or something reachable from
    its trailer runs code, launches, carries files), or None. pypdf decodes ``#xx`` escapes in
    names, so ``/J#61vaScript`` is ``/JavaScript`` here."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Permissions-only encryption (an empty open password, common on official documents)
        # opens like any reader opens it; a real open password leaves nothing to check.
        if reader.is_encrypted and not reader.decrypt(""):
            return _("已加密，无法检查其内容")
        if len(reader.pages) == 0:
            return _("没有页面")
        stack, seen = [reader.trailer], set[tuple[int, int]]()
        while stack:
            item = stack.pop()
            if isinstance(item, IndirectObject):
                ref = (item.idnum, item.generation)
                if ref in seen:
                    continue
                seen.add(ref)
                if len(seen) > PDF_MAX_OBJECTS:
                    return _("对象过多")
                item = item.get_object()
            if isinstance(item, DictionaryObject):
                for key, value in item.items():
                    if key in _PDF_FORBIDDEN_KEYS:
                        return _("含有%(what)s") % {"what": _(_PDF_FORBIDDEN_KEYS[key])}
                    if key == "/S" and value in _PDF_FORBIDDEN_ACTIONS:
                        return _("含有%(what)s") % {"what": _(_PDF_FORBIDDEN_ACTIONS[value])}
                    stack.append(value)
            elif isinstance(item, ArrayObject):
                stack.extend(item)
    except Exception:
        return _("无法解析（文件损坏或不是真正的 PDF）")
    return None


def _check_pdf(data: bytes, shown: str) -> None:
    reason = _pdf_refusal(data)
    if reason:
        raise ValidationError(
            _("文件“%(name)s”不是可接受的 PDF：%(reason)s。") % {"name": shown, "reason": reason}
        )


# --- audio: the container's structure, not only its first bytes --------------------------------

_MP3_BITRATES = {  # kbit/s by (MPEG-1?, layer) and index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_BITRATES[(False, 3)] = _MP3_BITRATES[(False, 2)]
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(data: bytes, at: int) -> int | None:
    """The length of the MPEG audio frame whose header starts at ``at``, or None."""
    if at + 4 > len(data):
        return None
    b1, b2, b3 = data[at + 1], data[at + 2], data[at + 3]
    if data[at] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values; free-format streams are not accepted
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _MP3_BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    rate = _MP3_RATES[version][rate_index]
    if b3 & 3 == 2:  # reserved emphasis
        return None
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    return (144 if mpeg1 or layer == 2 else 72) * bitrate // rate + padding


def _mp3_ok(data: bytes) -> bool:
    """ID3v2 (its size in syncsafe bytes) if present, then two consecutive valid MPEG frame
    headers (one if the file holds a single frame)."""
    at = 0
    if data.startswith(b"ID3"):
        if len(data) < 10 or data[3] not in (2, 3, 4) or any(b & 0x80 for b in data[6:10]):
            return False
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        at = 10 + size + (10 if data[5] & 0x10 else 0)
        # Some encoders pad after the tag without counting it: zeros only, a bounded run.
        limit = min(len(data), at + 65536)
        while at < limit and data[at] == 0:
            at += 1
    length = _mp3_frame_length(data, at)
    if length is None:
        return False
    following = at + length
    return following >= len(data) or _mp3_frame_length(data, following) is not None


def _wav_ok(data: bytes) -> bool:
    """RIFF/WAVE whose chunks parse, with a sane ``fmt `` chunk before ``data``."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return False
    at, fmt_ok = 12, False
    while at + 8 <= len(data):
        chunk, size = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "little")
        if not all(32 <= c < 127 for c in chunk):
            return False
        body = data[at + 8 : at + 8 + size]
        if chunk == b"fmt ":
            if size < 16 or len(body) < 16:
                return False
            channels = int.from_bytes(body[2:4], "little")
            rate = int.from_bytes(body[4:8], "little")
            bits = int.from_bytes(body[14:16], "little")
            fmt_ok = 1 <= channels <= 16 and 1000 <= rate <= 384_000 and 0 < bits <= 64
        elif chunk == b"data":
            return fmt_ok
        at += 8 + size + (size & 1)
    return False


_MP4_BRANDS = (b"M4A", b"M4B", b"mp4", b"iso", b"3gp")  # major brand prefixes (as sniffed)


def _m4a_ok(data: bytes) -> bool:
    """An ``ftyp`` box first, then top-level boxes that parse exactly to the end, a ``moov``
    among them."""
    at, boxes = 0, list[bytes]()
    while at < len(data):
        if at + 8 > len(data):
            return False
        size, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        header = 8
        if size == 1:
            if at + 16 > len(data):
                return False
            size, header = int.from_bytes(data[at + 8 : at + 16], "big"), 16
        elif size == 0:
            size = len(data) - at
        if size < header or at + size > len(data):
            return False
        if not all(c == 0xA9 or 32 <= c < 127 for c in kind):
            return False
        if not boxes and (
            kind != b"ftyp" or size < 16 or data[at + 8 : at + 11] not in _MP4_BRANDS
        ):
            return False
        boxes.append(kind)
        at += size
    return b"moov" in boxes


# Speech bytes by frame type (0..8 for AMR, 0..9 for AMR-WB).
_AMR_NB_SIZES: tuple[int, ...] = (12, 13, 15, 17, 19, 20, 26, 31, 5)
_AMR_WB_SIZES: tuple[int, ...] = (17, 23, 32, 36, 40, 46, 50, 58, 60, 5)


def _amr_ok(data: bytes) -> bool:
    """The AMR (or AMR-WB) magic, then frames whose headers are valid, exactly to the end."""
    if data.startswith(b"#!AMR-WB\n"):
        at, sizes = 9, _AMR_WB_SIZES
    elif data.startswith(b"#!AMR\n"):
        at, sizes = 6, _AMR_NB_SIZES
    else:
        return False
    frames = 0
    while at < len(data):
        header = data[at]
        if header & 0x83:  # padding bits must be zero
            return False
        frame_type = (header >> 3) & 0x0F
        if frame_type < len(sizes):
            at += 1 + sizes[frame_type]
        elif frame_type in (14, 15):  # speech lost / no data: the header alone
            at += 1
        else:
            return False
        frames += 1
    return frames > 0 and at == len(data)


_AUDIO_CHECKS = {"mp3": _mp3_ok, "wav": _wav_ok, "m4a": _m4a_ok, "amr": _amr_ok}


def _check_audio(data: bytes, kind: str, shown: str) -> None:
    if not _AUDIO_CHECKS[kind](data):
        raise ValidationError(
            _("文件“%(name)s”不是有效的 %(kind)s 音频（文件结构不完整或内容不符）。")
            % {"name": shown, "kind": KINDS[kind][1]}
        )


def _check_xlsx(data: bytes, shown: str) -> None:
    try:
        zip_guard(data)
    except SpreadsheetError as exc:
        raise ValidationError(
            _("文件“%(name)s”未接收：%(reason)s") % {"name": shown, "reason": exc}
        ) from None


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
    # Content checked by parsing, not only by the first bytes (issue 21 item 10).
    shown = safe_filename(name)
    if kind in IMAGE_KINDS:
        _check_image(data, shown)
    elif kind == "pdf":
        _check_pdf(data, shown)
    elif kind in AUDIO_KINDS:
        _check_audio(data, kind, shown)
    elif kind == "xlsx":
        _check_xlsx(data, shown)
    return kind


@transaction.atomic
def file_store(
    *, upload: Any, purpose: str, actor: Any, supersedes: StoredFile | None = None
) -> StoredFile:
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


def file_open(stored: StoredFile) -> BinaryIO:
    path = (Path(settings.MEDIA_ROOT) / stored.path).resolve()
    if not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
        raise ValidationError("非法的文件路径。")
    return open(path, "rb")
