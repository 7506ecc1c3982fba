"""System Link site requests: the chat's submission and status, the requester's e-mail links, the review."""
import html

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.backend.auth import ACTIONS, ADMIN, actor, allow
from bot.backend.clients import forwarded_client
from bot.backend.errors import FieldErrors
from bot.backend.routes.common import db_of, settings_of
from bot.backend.services import attachments, site_requests
from bot.backend.validation import Form, read_json
from bot.facts import facts

MAX_IDEMPOTENCY_KEY_LENGTH = 200
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>{content}</body></html>
"""
routes = web.RouteTableDef()


@routes.post("/site-requests")
@allow(ACTIONS)
async def create_site_request(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise FieldErrors({"Idempotency-Key": f"required header, at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters"})
    client = forwarded_client(request)
    body = await read_json(request)
    new = site_requests.parse_site_request(body)

    async def create() -> dict:
        async with db_of(request).transaction() as session:
            return await site_requests.create(
                session, settings_of(request), new, key, site_requests.fingerprint(body), client, actor(request)
            )

    try:
        created = await create()
    except IntegrityError:  # a concurrent request with the same key won: answer as its retry
        created = await create()
    return web.json_response(created, status=201)


# Registered before /site-requests/{ref}, which would otherwise take "confirm" for a reference.
@routes.get("/site-requests/confirm")
async def confirm_email(request: web.Request) -> web.Response:
    """The link in the confirmation e-mail: a page for a browser, JSON for anything else."""
    async with db_of(request).transaction() as session:
        confirmed = await site_requests.confirm_email(
            session, settings_of(request), request.query.get("token", ""), actor(request)
        )
        view = site_requests.describe(confirmed)
    message = f"Thank you: your e-mail address is confirmed for site request {view['reference']}."
    if view["status"] == site_requests.AWAITING_AGREEMENT:
        message += " We still need the signed site agreement: use the upload link from our other e-mail."
    elif view["status"] == site_requests.UNDER_REVIEW:
        message += " Your request is now under review."
    if "text/html" in request.headers.get("Accept", ""):
        content = f"<p>{html.escape(message)}</p>"
        return web.Response(text=PAGE.format(title="E-mail address confirmed", content=content),
                            content_type="text/html")
    return web.json_response({**view, "message": message})


@routes.get("/site-requests/{ref}/agreement")
async def agreement_form(request: web.Request) -> web.Response:
    """The page the e-mailed upload link opens: a form that posts the file back to the same URL."""
    async with db_of(request).transaction() as session:
        pending = await site_requests.awaiting_agreement(
            session, settings_of(request), request.match_info["ref"], request.query.get("token", "")
        )
        reference = pending.reference
    accept = ",".join("." + ext for ext in facts()["system_link"]["agreement_file_types"])
    content = (
        f"<p>Upload the site agreement for request {html.escape(reference)}, signed by an authorized "
        "representative of your facility.</p>"
        '<form method="post" enctype="multipart/form-data">'
        f'<input type="file" name="file" accept="{accept}" required> <button>Upload</button></form>'
    )
    return web.Response(text=PAGE.format(title="Signed site agreement", content=content), content_type="text/html")


@routes.post("/site-requests/{ref}/agreement")
async def upload_agreement(request: web.Request) -> web.Response:
    settings, db = settings_of(request), db_of(request)
    reference, token = request.match_info["ref"], request.query.get("token", "")
    async with db.transaction() as session:  # a bad link is refused before the file is read
        await site_requests.awaiting_agreement(session, settings, reference, token)
    upload = await attachments.read_upload(request, settings.max_upload_bytes)
    async with db.transaction() as session:
        pending = await site_requests.awaiting_agreement(session, settings, reference, token)
        attachment = await attachments.store(session, upload, actor(request))
        site_requests.attach_agreement(session, pending, attachment, actor(request))
        view = site_requests.describe(pending)
    return web.json_response(view)


@routes.get("/site-requests/{ref}")
@allow(ACTIONS)
async def site_request_status(request: web.Request) -> web.Response:
    async with db_of(request).transaction() as session:
        view = site_requests.describe(await site_requests.find(session, request.match_info["ref"]))
    return web.json_response(view)


@routes.post("/site-requests/{ref}/decision")
@allow(ADMIN)
async def decide_site_request(request: web.Request) -> web.Response:
    form = Form(await read_json(request))
    approve = form.boolean("approve")
    reason = form.text("reason", required=approve is False, max_length=1000)
    form.check()
    async with db_of(request).transaction() as session:
        decided = await site_requests.decide(session, request.match_info["ref"], approve, reason, actor(request))
        view = site_requests.describe(decided)
    return web.json_response(view)
