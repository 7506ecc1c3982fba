"""One page layout for every web page, and the CSRF check of their forms.

Values are escaped where they are put into HTML (`esc`); pages carry no inline
script or style, so the strict Content-Security-Policy (web_security.py) holds.
"""
import hmac
import secrets
from html import escape as esc
from typing import Optional

from aiohttp import web

from bot.facts import phone

CSRF_COOKIE = "avera_csrf"
CSRF_FIELD = "csrf_token"
LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | Avera portals help</title>
<link rel="stylesheet" href="/static/site.css">
{head}</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header"><p class="brand">Avera portals help</p></header>
<main id="main" tabindex="-1">
<h1>{title}</h1>
{content}
</main>
<footer class="site-footer"><p>Questions about MyChart? Call technical support at
<a href="tel:{phone}">{phone}</a>, 24 hours a day, 7 days a week. In an emergency call 911.</p></footer>
{body_end}</body>
</html>
"""


def render(title: str, content: str, status: int = 200, head: str = "", body_end: str = "") -> web.Response:
    """A page; `content` is HTML whose dynamic values the caller escaped with esc()."""
    text = LAYOUT.format(title=esc(title), content=content, head=head, body_end=body_end,
                         phone=esc(phone("mychart")))
    response = web.Response(text=text, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"  # pages may show tokens in forms
    return response


def paragraphs(*texts: str) -> str:
    return "".join(f"<p>{esc(text)}</p>" for text in texts)


def csrf_token(request: web.Request) -> str:
    """The browser's CSRF token, or a new random one."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def with_csrf_cookie(response: web.Response, request: web.Request, token: str) -> web.Response:
    """The token goes in a SameSite cookie and in the form: another site can read neither."""
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/", secure=request.secure)
    return response


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{esc(token)}">'


def csrf_ok(request: web.Request, submitted: Optional[str]) -> bool:
    """The form's token matches the cookie's, and the browser says the post comes from here."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not submitted or not hmac.compare_digest(cookie.encode(), submitted.encode()):
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"
