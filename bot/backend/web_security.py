"""Security headers on every response the backend serves: web pages, static files and API answers.

The Content-Security-Policy allows scripts, styles and connections only from the
backend's own origin and the Rasa socket.io origin (RASA_PUBLIC_URL), so an
injected inline script or a script from another host never runs.
"""
from urllib.parse import urlsplit

from aiohttp import web

from bot.backend.appkeys import SETTINGS


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(rasa_public_url: str) -> str:
    rasa = origin(rasa_public_url)
    rasa_websocket = rasa.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src 'self' {rasa} {rasa_websocket}",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ])


def security_headers(rasa_public_url: str) -> dict:
    return {
        "Content-Security-Policy": content_security_policy(rasa_public_url),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # e-mailed links carry tokens in their query
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


@web.middleware
async def security_headers_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Outermost middleware: answers, errors and redirects all get the headers."""
    headers = security_headers(request.config_dict[SETTINGS].rasa_public_url)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        for name, value in headers.items():
            error.headers.setdefault(name, value)
        raise
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response
