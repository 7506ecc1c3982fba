"""How bot/cli.py starts Rasa: the command line must survive any token; only the staff channels that are on."""
from pathlib import Path

import yaml
from rasa.__main__ import create_argument_parser

from bot.cli import Ports, Stack, rasa_service, staff_channels_summary, write_credentials


def test_rasa_reads_a_token_that_starts_with_a_dash(tmp_path):
    """token_urlsafe gives such a token one time in 64; Rasa then refused to start."""
    service = rasa_service(Path("models/m.tar.gz"), 5005, Path("endpoints.yml"),
                           {"RASA_TOKEN": "-hl3x_Q"}, tmp_path / "rasa.log")
    run_arguments = service.argv[service.argv.index("run"):]
    parsed = create_argument_parser().parse_args(run_arguments)
    assert parsed.auth_token == "-hl3x_Q"
    assert parsed.enable_api and parsed.port == 5005


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
