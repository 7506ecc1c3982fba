"""`python -m bot.backend`: run the backend until SIGINT or SIGTERM."""
import logging
import sys

from aiohttp import web

from bot.backend.access_log import PrivacyAccessLogger
from bot.backend.app import create_app
from bot.backend.settings import Settings, SettingsError

SHUTDOWN_TIMEOUT_SECONDS = 10


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        sys.exit(f"backend: cannot start: {error}")
    log = logging.getLogger("bot.backend")
    log.info("listening on http://%s:%s", settings.host, settings.port)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log_class=PrivacyAccessLogger,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
        print=None,
    )
    log.info("stopped")


if __name__ == "__main__":
    main()
