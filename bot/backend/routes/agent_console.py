"""The agent console page and its script and style (bot/web/agent/), served by the backend at /agent.

The page holds no data: its script signs in and calls the escalation API.
Security headers come from the backend's middleware like every other page.
"""
from pathlib import Path

from aiohttp import web

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "web" / "agent"


def add_console_routes(app: web.Application) -> None:
    app.router.add_get("/agent", console_page)
    app.router.add_static("/agent/static", CONSOLE_DIR)


async def console_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(CONSOLE_DIR / "index.html", headers={"Cache-Control": "no-store"})
