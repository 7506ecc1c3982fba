"""MyChart access code reissue, for the action server."""
from aiohttp import web

from bot.backend.routes.identity import identity_route
from bot.backend.services import access_codes

routes = web.RouteTableDef()
routes.post("/access-codes/reissue")(identity_route(access_codes.reissue))
