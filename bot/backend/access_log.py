"""An access log without personal data: query strings carry tokens and e-mail addresses."""
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger


class PrivacyAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.0fms", request.method, request.path, response.status, time * 1000)
