"""No secret of either staff channel reaches a log at the default level."""
import uuid

from tests.channels.conftest import new_user
from tests.channels.test_teams import TeamsClient, in_conversation


def test_no_channel_secret_in_any_log(channels_stack, workspace, slack, microsoft):
    user = new_user()
    workspace.send_event(workspace.message("what user roles are there in System Link?", user, channel=f"D{user}"))
    workspace.send_event(workspace.message("hi", user, channel=f"D{user}"), signature={})  # refused, logged
    conversation = f"a:{uuid.uuid4().hex}"
    teams = TeamsClient(channels_stack.rasa_url, microsoft)
    token = microsoft.token()
    teams.send(microsoft.activity("what user roles are there in System Link?", conversation=conversation), token)
    teams.send(microsoft.activity("hi", conversation=conversation), token=microsoft.token(aud="someone-else"))
    slack.wait_for_posts(1, lambda post: post.get("channel") == f"D{user}")
    microsoft.wait_for_replies(1, in_conversation(conversation))

    secrets = {"Slack signing secret": slack.signing_secret, "Slack bot token": slack.bot_token,
               "Teams app password": microsoft.app_password, "Bot Framework token": token,
               **{f"connector token {i}": t for i, t in enumerate(microsoft.issued_tokens)}}
    logs = {service.name: service.log_path.read_text(errors="replace") for service in channels_stack.services}
    assert logs["rasa"]  # the logs are there to be read
    for log_name, text in logs.items():
        for secret_name, secret in secrets.items():
            assert secret not in text, f"{secret_name} in the {log_name} log"
