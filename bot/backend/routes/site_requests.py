"""System Link site requests: the chat's submission and status, the requester's e-mail links, the review."""
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.backend.auth import ACTIONS, ADMIN, actor, allow
from bot.backend.errors import ApiError, FieldErrors
from bot.backend.routes.common import db_of, settings_of
from bot.backend.services import attachments, site_requests
from bot.backend.validation import Form, read_json
from bot.web import site_request_pages as pages
from bot.web.pages import CSRF_FIELD, csrf_ok

MAX_IDEMPOTENCY_KEY_LENGTH = 200
routes = web.RouteTableDef()


@routes.post("/site-requests")
@allow(ACTIONS)
async def create_site_request(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise FieldErrors({"Idempotency-Key": f"required header, at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters"})
    body = await read_json(request)
    new = site_requests.parse_site_request(body)

    async def create() -> dict:
        async with db_of(request).transaction() as session:
            return await site_requests.create(
                session, settings_of(request), new, key, site_requests.fingerprint(body), actor(request)
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
    try:
        async with db_of(request).transaction() as session:
            confirmed = await site_requests.confirm_email(
                session, settings_of(request), request.query.get("token", ""), actor(request)
            )
            view = site_requests.describe(confirmed)
    except ApiError as error:
        if pages.wants_page(request):
            return pages.link_problem(error.message, error.status)
        raise
    if pages.wants_page(request):
        return pages.email_confirmed(view)
    message = f"Thank you: your e-mail address is confirmed for site request {view['reference']}. "
    return web.json_response({**view, "message": message + pages.next_steps(view)})


@routes.get("/site-requests/{ref}/agreement")
async def agreement_form(request: web.Request) -> web.Response:
    """The page the e-mailed upload link opens: a form that posts the file back to the same URL."""
    settings = settings_of(request)
    try:
        async with db_of(request).transaction() as session:
            pending = await site_requests.awaiting_agreement(
                session, settings, request.match_info["ref"], request.query.get("token", "")
            )
            reference = pending.reference
    except ApiError as error:
        return pages.link_problem(error.message, error.status)
    return pages.agreement_form(request, reference, settings.max_upload_bytes)


@routes.post("/site-requests/{ref}/agreement")
async def upload_agreement(request: web.Request) -> web.Response:
    """The upload, from the page (checked against CSRF) or from an API client (JSON answers)."""
    settings, db, page = settings_of(request), db_of(request), pages.wants_page(request)
    reference, token = request.match_info["ref"], request.query.get("token", "")
    try:
        async with db.transaction() as session:  # a bad link is refused before the file is read
            await site_requests.awaiting_agreement(session, settings, reference, token)
    except ApiError as error:
        if page:
            return pages.link_problem(error.message, error.status)
        raise
    try:
        upload = await attachments.read_upload(request, settings.max_upload_bytes)
        if page and not csrf_ok(request, upload.fields.get(CSRF_FIELD)):
            raise ApiError(403, "This form was open too long or came from another site: open the link again.")
        async with db.transaction() as session:
            pending = await site_requests.awaiting_agreement(session, settings, reference, token)
            attachment = await attachments.store(session, upload, actor(request))
            site_requests.attach_agreement(session, pending, attachment, actor(request))
            view = site_requests.describe(pending)
    except ApiError as error:
        if page:
            return pages.agreement_form(request, reference.upper(), settings.max_upload_bytes, error.message,
                                        error.status)
        raise
    return pages.agreement_received(view) if page else web.json_response(view)


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
