"""The action server as this project serves it: `python -m actions.server [--port 5055]`.

rasa-sdk's own app (what `rasa run actions` serves), bound to
ACTION_SERVER_HOST (default 127.0.0.1), answering only callers that send
`Authorization: Bearer <ACTION_SERVER_TOKEN>`, as Rasa does with the
`action_endpoint` of endpoints.yml. Without that check, anyone who reaches
the port could run the reissue, reset and site-request actions with slot
values of their choice. `/health` stays open for load balancers.
"""
import argparse
import hmac
import logging

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request

from actions import settings

OPEN_PATHS = {"/health"}


def create_server(token: str) -> Sanic:
    """rasa-sdk's app with the project's actions, refusing calls without `token`."""
    if not token:
        raise SystemExit("ACTION_SERVER_TOKEN is not set: put a long random value in .env "
                         "(`make run` creates one) or in the environment.")
    app = create_app("actions", cors_origins="")
    expected = f"Bearer {token}".encode()

    @app.middleware("request")
    async def only_rasa(request: Request):
        if request.path in OPEN_PATHS:
            return None
        if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
            return response.json({"error": "Send `Authorization: Bearer <ACTION_SERVER_TOKEN>`."}, status=401)
        return None

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=settings.ACTION_SERVER_PORT)
    args = parser.parse_args()
    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    app = create_server(settings.ACTION_SERVER_TOKEN)
    logging.getLogger(__name__).info("Action server on http://%s:%s", settings.ACTION_SERVER_HOST, args.port)
    app.run(settings.ACTION_SERVER_HOST, args.port, workers=1, motd=False)


if __name__ == "__main__":
    main()
