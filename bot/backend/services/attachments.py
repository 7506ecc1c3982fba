"""Uploaded files (signed site agreements): accepted by what their bytes are, never by their name."""
import hashlib
import struct
import uuid
from dataclasses import dataclass, field
from typing import Dict, Optional

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.errors import ApiError, FieldErrors
from bot.backend.models import Attachment
from bot.backend.services import audit
from bot.backend.validation import storable
from bot.facts import facts

CHUNK_BYTES = 64 * 1024
MAX_TEXT_FIELD_BYTES = 1024  # other form fields sent with the file (a web form's CSRF token)
# Leading bytes -> (content type, the file extensions facts.yml names for it).
SIGNATURES = (
    (b"%PDF-", "application/pdf", ("pdf",)),
    (b"\xff\xd8\xff", "image/jpeg", ("jpg", "jpeg")),
    (b"GIF87a", "image/gif", ("gif",)),
    (b"GIF89a", "image/gif", ("gif",)),
    (b"II*\x00", "image/tiff", ("tif", "tiff")),
    (b"MM\x00*", "image/tiff", ("tif", "tiff")),
    (b"BM", "image/bmp", ("bmp",)),
)
BMP_INFO_HEADER_SIZES = (12, 40, 52, 56, 64, 108, 124)


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    fields: Dict[str, str] = field(default_factory=dict)


def detect_content_type(content: bytes) -> Optional[str]:
    for magic, content_type, _ in SIGNATURES:
        if content.startswith(magic) and (content_type != "image/bmp" or _is_bmp(content)):
            return content_type
    return None


def _is_bmp(content: bytes) -> bool:
    """"BM" alone is too common a start; a bitmap also names a known info-header size."""
    return len(content) >= 26 and struct.unpack_from("<I", content, 14)[0] in BMP_INFO_HEADER_SIZES


async def read_upload(request: web.Request, max_bytes: int) -> Upload:
    """The multipart field `file`, read in chunks so an oversized upload stops at the limit.

    Short text fields sent before the file come along in `fields`.
    """
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, "Send the file as multipart/form-data in the field `file`.")
    reader = await request.multipart()
    fields: Dict[str, str] = {}
    async for part in reader:
        if part.name != "file":
            text = await part.read_chunk(MAX_TEXT_FIELD_BYTES)
            fields[part.name or ""] = text.decode("utf-8", "replace")
            continue
        chunks, size = [], 0
        while chunk := await part.read_chunk(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, f"The file is larger than {max_bytes} bytes.")
            chunks.append(chunk)
        return Upload(_safe_filename(part.filename), b"".join(chunks), fields)
    raise FieldErrors({"file": "required"})


async def store(session: AsyncSession, upload: Upload, actor: str) -> Attachment:
    content_type = detect_content_type(upload.content)
    if content_type is None:
        allowed = ", ".join(facts()["system_link"]["agreement_file_types"])
        raise ApiError(415, f"Only these file types are accepted: {allowed}.", code="unsupported_file_type")
    attachment = Attachment(
        id=uuid.uuid4().hex,
        filename=upload.filename,
        content_type=content_type,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        content=upload.content,
    )
    session.add(attachment)
    await session.flush()
    audit.record(session, actor, "attachment.stored", "attachment", attachment.id)
    return attachment


def describe(attachment: Attachment) -> dict:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
    }


def _safe_filename(name: Optional[str]) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[:255] if base and storable(base) else "upload"

