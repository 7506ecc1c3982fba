"""How bot/cli.py and bot/rasa_server.py start Rasa: loopback, no secret on the command line, only the staff
channels that are on."""
from pathlib import Path

import pytest
import rasa
from rasa.__main__ import create_argument_parser

import yaml

from bot import rasa_server
from bot.cli import (ENV_EXAMPLE, Ports, Stack, rasa_service, staff_channels_summary, write_credentials,
                     write_endpoints)

SECRET = "-hl3x_Q-a-secret-that-starts-with-a-dash"


def served(arguments, env):
    served_arguments, interface = rasa_server.run_arguments(arguments, env)
    return create_argument_parser().parse_args(["run", *served_arguments]), interface


def test_the_command_line_carries_no_secret(tmp_path):
    service = rasa_service(Path("models/m.tar.gz"), 5005, Path("endpoints.yml"), {"RASA_TOKEN": SECRET},
                           tmp_path / "rasa.log")
    assert not any(SECRET in argument for argument in service.argv)
    assert "--enable-api" in service.argv


def test_the_launcher_reads_the_api_secret_from_the_environment_and_binds_to_loopback():
    parsed, interface = served(["--enable-api", "--port", "5005"], {"RASA_TOKEN": SECRET})
    assert parsed.jwt_secret == SECRET and parsed.jwt_method == "HS256"
    assert parsed.auth_token is None  # no plain token: it would travel in URLs
    assert parsed.interface == interface == "127.0.0.1"


def test_a_setting_opens_the_interface():
    parsed, interface = served(["--enable-api"], {"RASA_TOKEN": SECRET, "RASA_HOST": "0.0.0.0"})
    assert parsed.interface == interface == "0.0.0.0"
    parsed, interface = served(["--interface=10.1.2.3"], {"RASA_HOST": "0.0.0.0"})
    assert parsed.interface == interface == "10.1.2.3"


@pytest.mark.parametrize("arguments", [["--auth-token", SECRET], [f"--auth-token={SECRET}"], ["--jwt-secret", SECRET]])
def test_a_secret_on_the_command_line_is_refused(arguments):
    with pytest.raises(SystemExit, match="command line"):
        rasa_server.run_arguments(["--enable-api", *arguments], {"RASA_TOKEN": SECRET})


def test_the_api_is_not_served_without_its_secret():
    with pytest.raises(SystemExit, match="RASA_TOKEN"):
        rasa_server.run_arguments(["--enable-api"], {})


def test_the_launcher_refuses_another_rasa_version(monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(SystemExit, match="written for Rasa 3.6.21"):
        rasa_server.run_arguments(["--enable-api"], {"RASA_TOKEN": SECRET})


def test_every_new_secret_is_in_env_example():
    example = ENV_EXAMPLE.read_text()
    for name in ("RASA_TOKEN", "ACTION_SERVER_TOKEN"):
        assert f"\n{name}=change-me\n" in example


def test_an_existing_env_file_gets_the_secrets_it_lacks(tmp_path, monkeypatch):
    from bot import cli

    env_file = tmp_path / ".env"
    env_file.write_text("# written by an older version\nRASA_TOKEN=kept\nexport SMTP_HOST='mail.example.org'\n")
    monkeypatch.setattr(cli, "ENV_FILE", env_file)
    cli.ensure_env_file()
    values = cli.read_env_file()
    assert values["RASA_TOKEN"] == "kept" and values["SMTP_HOST"] == "mail.example.org"
    assert len(values["ACTION_SERVER_TOKEN"]) == 64 and values["BACKEND_SECRET_KEY"] != "change-me"


def test_effective_credentials_hold_only_the_channels_that_are_on_and_no_secret(tmp_path):
    slack_only = {"SLACK_BOT_TOKEN": "xoxb-secret-token", "SLACK_SIGNING_SECRET": "signing-secret",
                  "SLACK_API_URL": "", "TEAMS_APP_ID": "app-id", "TEAMS_APP_PASSWORD": ""}
    path = write_credentials(tmp_path / "credentials.yml", slack_only)
    text = path.read_text()
    channels = yaml.safe_load(text)
    assert set(channels) == {"bot.channels.redacting.RedactingRestInput",
                             "bot.channels.redacting.RedactingSocketIOInput",
                             "bot.channels.slack.StaffSlackInput"}
    # Rasa fills the references in from its environment; an unset optional setting is left out.
    assert channels["bot.channels.slack.StaffSlackInput"] == {
        "slack_token": "${SLACK_BOT_TOKEN}", "slack_signing_secret": "${SLACK_SIGNING_SECRET}"}
    assert "xoxb-secret-token" not in text and "signing-secret" not in text


def test_teams_is_on_with_its_app_id_and_password(tmp_path):
    env = {"TEAMS_APP_ID": "app-id", "TEAMS_APP_PASSWORD": "app-password", "TEAMS_TENANT_ID": "tenant"}
    channels = yaml.safe_load(write_credentials(tmp_path / "credentials.yml", env).read_text())
    assert "bot.channels.slack.StaffSlackInput" not in channels
    assert channels["bot.channels.teams.TeamsInput"] == {
        "app_id": "${TEAMS_APP_ID}", "app_password": "${TEAMS_APP_PASSWORD}", "tenant_id": "${TEAMS_TENANT_ID}"}


def test_make_run_says_which_staff_channel_is_on_and_its_webhook(tmp_path):
    env = {"RASA_TOKEN": "t", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    stack = Stack(Path("models/m.tar.gz"), Ports(rasa=5005), Path("endpoints.yml"), env, tmp_path / "logs")
    summary = staff_channels_summary(stack)
    assert "Slack (staff): on, webhook POST http://127.0.0.1:5005/webhooks/slack/webhook" in summary
    assert "Teams (staff): off (set TEAMS_APP_ID and TEAMS_APP_PASSWORD to turn it on)" in summary
    assert "xoxb-1" not in summary


def test_a_second_rasa_server_beside_a_stack_sends_the_action_servers_credential(tmp_path):
    """Tests start Rasa servers of their own on another tracker store: without the header every custom
    action gets a 401 and the member an empty reply."""
    endpoints = yaml.safe_load(write_endpoints(tmp_path / "endpoints.yml", "http://127.0.0.1:5999/webhook",
                                               tmp_path / "rasa.db",
                                               tracker_store={"type": "SQL", "dialect": "sqlite"}).read_text())
    assert endpoints["action_endpoint"] == {"url": "http://127.0.0.1:5999/webhook",
                                            "headers": {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}}
    assert endpoints["tracker_store"] == {"type": "SQL", "db": str(tmp_path / "rasa.db"), "dialect": "sqlite"}
    assert "event_broker" not in endpoints  # no review inbox to feed
