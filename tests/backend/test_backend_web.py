"""What the backend's web side promises: security headers on everything it serves, and upload
grants that let a browser upload one kind of file and nothing else."""
import re
import time

import aiohttp
import pytest

from bot.backend.services import upload_grants
from bot.backend.settings import Settings

pytestmark = pytest.mark.asyncio
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf_upload() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", PDF, filename="agreement.pdf", content_type="application/pdf")
    return form


@pytest.mark.parametrize("path", ["/", "/reset-password?token=nope", "/static/site.css",
                                  "/static/chat/chat-widget.js", "/api/v1/healthz", "/no-such-page"])
async def test_every_response_carries_the_security_headers(backend, http, path):
    async with http.get(backend.url + path) as reply:
        headers = reply.headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert re.search(r"connect-src 'self' http://localhost:5005 ws://localhost:5005;", policy)
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


async def test_pages_have_no_inline_script_or_style(backend, http):
    async with http.get(backend.url + "/") as reply:
        page = await reply.text()
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/chat/chat-widget.js" defer>']
    assert "<style" not in page and "style=" not in page and not re.search(r"\son[a-z]+=", page)


async def test_a_grant_uploads_for_its_conversation_and_nothing_else(api):
    grant = await api.post("/upload-grants", {"conversation_id": "c0ffee" * 5, "purpose": "site_agreement"},
                           token="actions")
    assert grant.status == 201
    assert grant.body["url"].endswith("/api/v1/attachments") and ".pdf" in grant.body["accept"]
    assert grant.body["max_bytes"] == 10 * 1024 * 1024
    uploaded = await api.call("POST", "/attachments", token=grant.body["token"], data=pdf_upload())
    assert uploaded.status == 201 and uploaded.body["content_type"] == "application/pdf"
    # The grant is good for that upload only: no other endpoint accepts it.
    assert (await api.get("/site-requests/SR-AAAAAAAA", token=grant.body["token"])).status == 401
    assert (await api.get("/outbox?to=x@example.org", token=grant.body["token"])).status == 401


async def test_forged_expired_and_foreign_grants_are_refused(api):
    settings = Settings.from_env({"BACKEND_ADMIN_TOKEN": "a", "BACKEND_ACTIONS_TOKEN": "b",
                                  "BACKEND_SECRET_KEY": api.secret_key})
    expired, _ = upload_grants.issue(settings, "conversation", "site_agreement", now=time.time() - 2 * 3600)
    body, _, signature = upload_grants.issue(settings, "conversation", "site_agreement")[0].partition(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    other_key = Settings.from_env({"BACKEND_ADMIN_TOKEN": "a", "BACKEND_ACTIONS_TOKEN": "b",
                                   "BACKEND_SECRET_KEY": "another-key"})
    foreign, _ = upload_grants.issue(other_key, "conversation", "site_agreement")
    for token in (expired, forged, foreign, "", "x.y"):
        reply = await api.call("POST", "/attachments", token=token or None, data=pdf_upload())
        assert reply.status == 401, token


async def test_grants_are_for_the_action_server_and_known_purposes(api):
    body = {"conversation_id": "abc", "purpose": "site_agreement"}
    assert (await api.post("/upload-grants", body, token=None)).status == 401
    reply = await api.post("/upload-grants", {**body, "purpose": "anything"}, token="actions")
    assert reply.status == 422 and "purpose" in reply.body["error"]["fields"]


async def test_only_the_listed_sites_may_upload_from_their_pages(start_backend, http):
    server = start_backend(BACKEND_WIDGET_ORIGINS="https://clinic.example, https://other.example/")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    async with http.options(server.url + "/api/v1/attachments",
                            headers={"Origin": "https://clinic.example", **preflight}) as reply:
        assert reply.status == 204
        assert reply.headers["Access-Control-Allow-Origin"] == "https://clinic.example"
        assert reply.headers["Access-Control-Allow-Headers"] == "Authorization"
    async with http.post(server.url + "/api/v1/attachments", data=pdf_upload(),
                         headers={"Origin": "https://other.example", "Authorization": "Bearer forged"}) as reply:
        assert reply.status == 401  # CORS lets the widget read the answer; the grant is still checked
        assert reply.headers["Access-Control-Allow-Origin"] == "https://other.example"
    async with http.options(server.url + "/api/v1/attachments",
                            headers={"Origin": "https://evil.example", **preflight}) as reply:
        assert "Access-Control-Allow-Origin" not in reply.headers
    async with http.options(server.url + "/api/v1/outbox",
                            headers={"Origin": "https://clinic.example", **preflight}) as reply:
        assert "Access-Control-Allow-Origin" not in reply.headers
