"""The OpenAPI document (openapi.yml, the one description of this API), served as JSON."""
from pathlib import Path
from typing import Any, Dict

import yaml
from aiohttp import web

from bot.backend.appkeys import OPENAPI

OPENAPI_PATH = Path(__file__).parent.parent / "openapi.yml"
routes = web.RouteTableDef()


def load_openapi() -> Dict[str, Any]:
    return yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))


@routes.get("/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[OPENAPI])
