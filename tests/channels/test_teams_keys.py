"""The Teams channel's signing keys: fetched from the metadata, refreshed when Microsoft rotates them."""
import time

import pytest

from bot.channels.teams import KEYS_MIN_REFRESH_SECONDS, KeysUnavailable, TeamsInput, Unauthorized
from bot.cli import free_port
from tests.channels.fakes import FakeMicrosoft


@pytest.fixture
async def issuer_and_channel():
    issuer = FakeMicrosoft("app-id", "app-password")
    channel = TeamsInput("app-id", "app-password", openid_metadata_url=issuer.metadata_url,
                         token_url=issuer.token_url)
    yield issuer, channel
    await channel.http.close()
    issuer.close()


async def test_a_rotated_key_is_fetched_when_a_token_names_it_at_most_every_few_minutes(issuer_and_channel):
    issuer, channel = issuer_and_channel
    await channel.verify(f"Bearer {issuer.token()}", issuer.activity("hi"))
    issuer.rotate_key()
    rotated = f"Bearer {issuer.token()}"
    # Just fetched: an unknown key is refused rather than sending every forged token to Microsoft.
    with pytest.raises(Unauthorized):
        await channel.verify(rotated, issuer.activity("hi"))
    channel.keys._last_attempt = time.monotonic() - KEYS_MIN_REFRESH_SECONDS - 1
    await channel.verify(rotated, issuer.activity("hi"))


async def test_cached_keys_serve_while_the_metadata_is_unreachable(issuer_and_channel):
    issuer, channel = issuer_and_channel
    token = f"Bearer {issuer.token()}"
    await channel.verify(token, issuer.activity("hi"))
    channel.keys.metadata_url = f"http://127.0.0.1:{free_port()}/unreachable"
    channel.keys._current.fetched_at -= 2 * 24 * 3600  # a day old: due for a refresh, which fails
    channel.keys._last_attempt = 0.0
    await channel.verify(token, issuer.activity("hi"))


async def test_no_keys_yet_and_no_metadata_means_keys_unavailable():
    channel = TeamsInput("app-id", "app-password",
                         openid_metadata_url=f"http://127.0.0.1:{free_port()}/unreachable")
    issuer = FakeMicrosoft("app-id", "app-password")
    try:
        with pytest.raises(KeysUnavailable):
            await channel.verify(f"Bearer {issuer.token()}", issuer.activity("hi"))
    finally:
        await channel.http.close()
        issuer.close()
