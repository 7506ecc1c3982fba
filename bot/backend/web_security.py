"""Security headers on every response the backend serves: web pages, static files and API answers.

The Content-Security-Policy allows scripts, styles and connections only from the
backend's own origin and the Rasa socket.io origin (RASA_PUBLIC_URL), so an
injected inline script or a script from another host never runs. Sites listed in
BACKEND_WIDGET_ORIGINS that embed the chat widget may upload with an upload grant (CORS).
"""
from urllib.parse import urlsplit

from aiohttp import web

from bot.backend.appkeys import SETTINGS

CROSS_ORIGIN_PATHS = ("/api/v1/attachments",)  # the widget's uploads with an upload grant


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
        # E-mailed links carry tokens in their query: the URL never leaves this origin. ("no-referrer"
        # would also make browsers send "Origin: null" with forms, which the CSRF check refuses.)
        "Referrer-Policy": "same-origin",
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


@web.middleware
async def widget_cors_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Let the chat widget on the sites in BACKEND_WIDGET_ORIGINS upload (and only upload) from there."""
    origin = request.headers.get("Origin", "")
    allowed = request.path in CROSS_ORIGIN_PATHS and origin in request.config_dict[SETTINGS].widget_origins
    if not allowed:
        return await handler(request)
    cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=204, headers={**cors, "Access-Control-Allow-Methods": "POST",
                                                 "Access-Control-Allow-Headers": "Authorization",
                                                 "Access-Control-Max-Age": "600"})
    response = await handler(request)
    response.headers.update(cors)
    return response
