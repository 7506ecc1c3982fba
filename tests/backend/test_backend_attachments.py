"""Uploads are accepted by what their bytes are (the seven types facts.yml lists), not by name."""
import struct

import aiohttp
import pytest

from bot.backend.services.attachments import SIGNATURES
from bot.facts import facts

pytestmark = pytest.mark.asyncio
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the default the shared test backend runs with


def bmp() -> bytes:
    pixels = b"\x00\x00\xff\x00"  # one red pixel, padded to four bytes
    info = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    header = struct.pack("<2sIHHI", b"BM", 14 + len(info) + len(pixels), 0, 0, 14 + len(info))
    return header + info + pixels


TINY_FILES = {
    "pdf": (b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "application/pdf"),
    "jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9", "image/jpeg"),
    "jpeg": (b"\xff\xd8\xff\xdb\x00\x43\x00" + bytes(65) + b"\xff\xd9", "image/jpeg"),
    "gif": (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x01\x00\x01\x00"
            b"\x00\x02\x02D\x01\x00;", "image/gif"),
    "bmp": (bmp(), "image/bmp"),
    "tif": (b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00", "image/tiff"),
    "tiff": (b"MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00", "image/tiff"),
}
REFUSED_FILES = {
    "program.exe renamed to agreement.pdf": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(50),
    "text renamed to agreement.pdf": b"I agree to the terms.\n",
    "text that starts like a bitmap": b"BMW service schedule, not a picture at all\n",
    "empty file": b"",
}


def form(content: bytes, filename: str, field: str = "file") -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field(field, content, filename=filename, content_type="application/octet-stream")
    return data


async def test_the_signatures_cover_exactly_the_file_types_in_facts():
    extensions = {ext for _, _, exts in SIGNATURES for ext in exts}
    assert extensions == set(facts()["system_link"]["agreement_file_types"])


@pytest.mark.parametrize("extension", sorted(TINY_FILES))
async def test_each_accepted_type_is_recognised_by_its_content(api, extension):
    content, content_type = TINY_FILES[extension]
    reply = await api.call("POST", "/attachments", token="actions", data=form(content, f"agreement.{extension}"))
    assert reply.status == 201, reply.body
    assert reply.body["content_type"] == content_type
    assert reply.body["size"] == len(content)
    assert reply.body["filename"] == f"agreement.{extension}"
    assert reply.body["id"]


@pytest.mark.parametrize("case", sorted(REFUSED_FILES))
async def test_other_content_is_refused_whatever_its_name(api, case):
    reply = await api.call("POST", "/attachments", token="actions", data=form(REFUSED_FILES[case], "agreement.pdf"))
    assert reply.status == 415 and reply.body["error"]["code"] == "unsupported_file_type"


async def test_a_file_over_the_limit_is_a_413(api):
    content = TINY_FILES["pdf"][0] + bytes(MAX_UPLOAD_BYTES)
    reply = await api.call("POST", "/attachments", token="actions", data=form(content, "big.pdf"))
    assert reply.status == 413


async def test_a_body_that_is_not_multipart_is_a_415(api):
    reply = await api.post("/attachments", {"file": "agreement.pdf"}, token="actions")
    assert reply.status == 415


async def test_the_file_field_is_required(api):
    reply = await api.call("POST", "/attachments", token="actions", data=form(TINY_FILES["pdf"][0], "a.pdf", "upload"))
    assert reply.status == 422 and "file" in reply.body["error"]["fields"]


async def test_uploading_needs_a_token(api):
    reply = await api.call("POST", "/attachments", token=None, data=form(TINY_FILES["pdf"][0], "a.pdf"))
    assert reply.status == 401
