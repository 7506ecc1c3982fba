"""Every error leaves the backend as `{"error": {"code", "message", "fields"?}}`."""
import logging
from typing import Dict, Optional

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.backend.db import is_unavailable

log = logging.getLogger(__name__)

CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_fields",
    423: "locked",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An answer with a precise status; raised anywhere, rendered by the middleware."""

    def __init__(self, status: int, message: str, code: Optional[str] = None,
                 fields: Optional[Dict[str, str]] = None, headers: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES_BY_STATUS.get(status, "error")
        self.fields = fields
        self.headers = headers

    def response(self) -> web.Response:
        error = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return web.json_response({"error": error}, status=self.status, headers=self.headers)


class FieldErrors(ApiError):
    def __init__(self, fields: Dict[str, str]):
        super().__init__(422, "Some fields are missing or invalid.", fields=fields)


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return error.response()
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return ApiError(error.status, error.reason).response()
    except IntegrityError:
        # Two requests raced for the same unique value; the loser retries or gives up.
        return ApiError(409, "A conflicting change was made at the same time; try again.").response()
    except Exception as error:  # the catch-all: log here, never show a traceback to the client
        if is_unavailable(error):
            log.warning("database unavailable during %s %s: %s", request.method, request.path, type(error).__name__)
            return ApiError(503, "The database is not reachable; try again shortly.").response()
        log.exception("unexpected error during %s %s", request.method, request.path)
        return ApiError(500, "Something went wrong on our side.").response()
