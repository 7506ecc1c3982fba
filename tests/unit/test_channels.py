"""The REST channel is open only where nobody but this machine can reach it."""
import pytest

from bot.channels.redacting import RedactingRestInput


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::", "example.org"])
def test_an_open_rest_channel_refuses_to_start_beyond_loopback(monkeypatch, host):
    monkeypatch.setenv("RASA_HOST", host)
    monkeypatch.delenv("REST_CHANNEL_TOKEN", raising=False)
    with pytest.raises(ValueError, match="REST_CHANNEL_TOKEN"):
        RedactingRestInput.from_credentials(None)


@pytest.mark.parametrize("host,token", [("127.0.0.1", None), ("::1", None), ("localhost", None), ("0.0.0.0", "t0k3n")])
def test_the_rest_channel_starts_on_loopback_or_with_a_token(monkeypatch, host, token):
    monkeypatch.setenv("RASA_HOST", host)
    monkeypatch.setenv("REST_CHANNEL_TOKEN", token or "")
    assert RedactingRestInput.from_credentials(None).token == token
