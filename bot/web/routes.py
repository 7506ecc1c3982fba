"""The backend's web pages: the help page with the chat widget, the password reset page, static files.

The site-request pages that e-mailed links open live with their API routes
(bot/backend/routes/site_requests.py) and use the same layout (bot/web/pages.py).
"""
from pathlib import Path

from aiohttp import web

from bot.backend.auth import PUBLIC
from bot.backend.errors import ApiError
from bot.backend.routes.common import db_of, settings_of
from bot.backend.services import accounts
from bot.backend.validation import MAX_SECRET_LENGTH, MIN_PASSWORD_LENGTH
from bot.facts import phone
from bot.web.pages import CSRF_FIELD, csrf_field, csrf_ok, csrf_token, esc, paragraphs, render, with_csrf_cookie

STATIC = Path(__file__).with_name("static")
WIDGET_SCRIPT = "/static/chat/chat-widget.js"


def add_web_routes(app: web.Application) -> None:
    app.router.add_get("/", help_page)
    app.router.add_get("/reset-password", reset_password_form)
    app.router.add_post("/reset-password", reset_password)
    app.router.add_static("/static", STATIC)


async def help_page(request: web.Request) -> web.Response:
    settings = settings_of(request)
    content = f"""
<p>Our assistant answers questions about Avera MyChart (and the move from AveraChart), access codes,
signing in, teen and proxy access, Avera System Link, the Learning Center, the CE portal and the Health
Plans portal. It can also send you a new MyChart access code, a password reset link or your username,
and open a System Link site request.</p>
<p>Open the chat with the <strong>Chat with us</strong> button. Please never type a password or
Social Security number in the chat.</p>
<div id="avera-chat" data-socket-url="{esc(settings.rasa_public_url)}" data-support-phone="{esc(phone('mychart'))}"></div>
<noscript><p>The chat needs JavaScript. Call MyChart technical support at {esc(phone('mychart'))} (24/7).</p></noscript>
"""
    return render("How can we help?", content, body_end=f'<script src="{WIDGET_SCRIPT}" defer></script>\n')


def reset_link_problem(state: str) -> web.Response:
    minutes = accounts.reset_link_valid_minutes()
    if state == "expired":
        first = (f"This reset link has expired: for your security, a reset link works for {minutes} minutes "
                 "after we send it.")
    else:
        first = "This reset link was already used, or a newer link replaced it."
    return render("This link no longer works", paragraphs(
        first,
        "Ask the Avera help desk chat for a new password reset link, or call MyChart technical support at "
        f"{phone('mychart')} (24/7).",
    ), status=400)


def reset_form(request: web.Request, token: str, errors=()) -> web.Response:
    csrf = csrf_token(request)
    summary = ""
    if errors:
        items = "".join(f"<li>{esc(error)}</li>" for error in errors)
        summary = f'<div class="error-summary" role="alert"><h2>Please correct this</h2><ul>{items}</ul></div>'
    content = f"""{summary}
<form method="post" action="/reset-password" class="stacked-form">
{csrf_field(csrf)}
<input type="hidden" name="token" value="{esc(token)}">
<p id="password-rules">Your new password must be at least {MIN_PASSWORD_LENGTH} characters long
(at most {MAX_SECRET_LENGTH}). A few unrelated words make a strong password that is easy to remember;
don't reuse a password from another site.</p>
<label for="new-password">New password</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password" required
 minlength="{MIN_PASSWORD_LENGTH}" maxlength="{MAX_SECRET_LENGTH}" aria-describedby="password-rules">
<label for="confirm-password">New password again</label>
<input id="confirm-password" name="confirm_password" type="password" autocomplete="new-password" required
 minlength="{MIN_PASSWORD_LENGTH}" maxlength="{MAX_SECRET_LENGTH}">
<button type="submit">Change my password</button>
</form>
<p>This link works once, for {accounts.reset_link_valid_minutes()} minutes after we sent it.</p>
"""
    status = 422 if errors else 200
    return with_csrf_cookie(render("Choose a new MyChart password", content, status=status), request, csrf)


async def reset_password_form(request: web.Request) -> web.Response:
    token = request.query.get("token", "")
    async with db_of(request).transaction() as session:
        state = await accounts.reset_link_state(session, settings_of(request), token)
    return reset_form(request, token) if state == "valid" else reset_link_problem(state)


async def reset_password(request: web.Request) -> web.Response:
    form = await request.post()
    token = str(form.get("token", ""))
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return render("Please try again", paragraphs(
            "This form was open too long or came from another site, so we did not change anything. "
            "Open the link from the e-mail again."), status=403)
    password, again = str(form.get("new_password", "")), str(form.get("confirm_password", ""))
    errors = []
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_SECRET_LENGTH:
        errors.append(f"The new password must be {MIN_PASSWORD_LENGTH} to {MAX_SECRET_LENGTH} characters long.")
    if password != again:
        errors.append("The two passwords are not the same.")
    if errors:
        return reset_form(request, token, errors)
    settings = settings_of(request)
    try:
        async with db_of(request).transaction() as session:
            await accounts.complete_reset(session, settings, token, password, PUBLIC)
    except ApiError:
        async with db_of(request).transaction() as session:
            return reset_link_problem(await accounts.reset_link_state(session, settings, token))
    return render("Your password is changed", paragraphs(
        "Your MyChart password is changed. If your account was locked after too many sign-in attempts, "
        "it is unlocked now.",
        "Sign in to MyChart with your username and the new password.",
    ))
