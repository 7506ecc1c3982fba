"""Slack: signed Events API and interactivity requests to the running Rasa server; replies captured by a fake Web API."""
import time

from tests.channels.conftest import new_user

ROLES_QUESTION = "what user roles are there in System Link?"


def replies_to(user_channel: str):
    return lambda post: post.get("channel") == user_channel


def test_url_verification_challenge_is_answered(workspace):
    status, body = workspace.send_event({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY"})
    assert status == 200
    assert b'"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY"' in body.replace(b" ", b"")


def test_direct_message_is_answered_straight_back(workspace, slack):
    user = new_user()
    status, _ = workspace.send_event(workspace.message(ROLES_QUESTION, user, channel=f"D{user}"))
    assert status == 200
    [reply] = slack.wait_for_posts(1, replies_to(f"D{user}"))
    assert "Clinical Staff" in reply["text"] and "Biller" in reply["text"]
    assert "thread_ts" not in reply


def test_mention_in_a_channel_is_answered_in_its_thread(workspace, slack):
    user, channel = new_user(), "C0CLINIC1"
    question = workspace.message(ROLES_QUESTION, user, channel=channel, channel_type="channel")
    assert workspace.send_event(question)[0] == 200
    reply = slack.wait_for_posts(1, lambda p: p.get("thread_ts") == question["event"]["ts"])[0]
    assert reply["channel"] == channel and "Clinical Staff" in reply["text"]


def test_buttons_are_slack_blocks_and_a_click_comes_back_as_the_payload(workspace, slack):
    user, channel = new_user(), "C0CLINIC2"
    question = workspace.message("what can you help with", user, channel=channel, channel_type="channel")
    thread = question["event"]["ts"]
    in_thread = lambda p: p.get("thread_ts") == thread  # noqa: E731
    workspace.send_event(question)
    [offer] = slack.wait_for_posts(1, in_thread)
    buttons = {e["text"]["text"]: e["value"] for block in offer["blocks"] if block["type"] == "actions"
               for e in block["elements"]}
    assert buttons == {"Request a System Link site": "/request_site", "System Link roles": "/system_link_roles",
                       "Support phone numbers": "/all_support_numbers"}
    status, _ = workspace.click(user, buttons["System Link roles"], channel, thread_ts=thread)
    assert status == 200
    answer = slack.wait_for_posts(2, in_thread)[1]
    assert "Clinical Staff" in answer["text"]


def test_staff_are_not_offered_what_only_the_patient_can_ask_for(workspace, slack):
    user = new_user()
    workspace.send_event(workspace.message("my activation code has expired, what now", user, channel=f"D{user}"))
    [reply] = slack.wait_for_posts(1, replies_to(f"D{user}"))
    assert "the patient" in reply["text"] and "855-667-9704" in reply["text"]
    assert "Would you like me" not in reply["text"] and "blocks" not in reply
    workspace.send_event(workspace.message("what is a MyChart access code?", user, channel=f"D{user}"))
    about = slack.wait_for_posts(2, replies_to(f"D{user}"))[1]
    values = [e["value"] for block in about.get("blocks", []) if block["type"] == "actions" for e in block["elements"]]
    assert "/request_access_code" not in values


def test_staff_asking_for_a_new_access_code_are_told_what_the_bot_does_for_staff(workspace, slack):
    user = new_user()
    workspace.send_event(workspace.message("send me a new access code", user, channel=f"D{user}"))
    [reply] = slack.wait_for_posts(1, replies_to(f"D{user}"))
    assert "System Link" in reply["text"] and "855-667-9704" in reply["text"] and "605-332-6000" in reply["text"]
    assert "full name" not in reply["text"].lower()


def test_slack_is_acknowledged_before_the_reply_is_ready(workspace, slack):
    """If the webhook waited for the reply, it could not answer while Slack holds the reply's post."""
    user = new_user()
    slack.released.clear()
    try:
        status, _ = workspace.send_event(workspace.message(ROLES_QUESTION, user, channel=f"D{user}"))
        assert status == 200
        assert slack.wait_for_posts(1, replies_to(f"D{user}"), timeout=0) == []
    finally:
        slack.released.set()
    assert "Clinical Staff" in slack.wait_for_posts(1, replies_to(f"D{user}"))[0]["text"]


def test_a_retry_of_an_event_gets_no_second_reply(workspace, slack):
    user = new_user()
    question = workspace.message(ROLES_QUESTION, user, channel=f"D{user}")
    workspace.send_event(question)
    status, _ = workspace.send_event(question, headers={"X-Slack-Retry-Num": "1",
                                                        "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    # Replies in one conversation come in order: once the follow-up is answered, a second
    # answer to the retried question would have been posted before it.
    workspace.send_event(workspace.message("thanks!", user, channel=f"D{user}"))
    posts = slack.wait_for_posts(2, replies_to(f"D{user}"))
    assert len([p for p in posts if "Clinical Staff" in p["text"]]) == 1
    assert len(posts) == 2


def test_a_retry_of_an_event_never_received_is_answered(workspace, slack):
    user = new_user()
    question = workspace.message(ROLES_QUESTION, user, channel=f"D{user}")
    workspace.send_event(question, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    [reply] = slack.wait_for_posts(1, replies_to(f"D{user}"))
    assert "Clinical Staff" in reply["text"]


def test_unsigned_forged_and_stale_requests_are_refused_and_not_processed(workspace, slack):
    user = new_user()
    forged = workspace.message(ROLES_QUESTION, user, channel=f"D{user}")
    raw = __import__("json").dumps(forged).encode()
    assert workspace.send_event(forged, signature={})[0] == 401
    assert workspace.send_event(forged, signature=slack.sign(raw, secret="not-the-signing-secret"))[0] == 401
    stale = slack.sign(raw, timestamp=int(time.time()) - 6 * 60)
    assert workspace.send_event(forged, signature=stale)[0] == 401
    tampered = workspace.message("send me a new access code", user, channel=f"D{user}")
    tampered["event_id"] = forged["event_id"]
    assert workspace.send_event(tampered, signature=slack.sign(raw))[0] == 401
    # None of them reached Rasa: the first reply in this conversation answers the next, signed message.
    workspace.send_event(workspace.message("thanks!", user, channel=f"D{user}"))
    [reply] = slack.wait_for_posts(1, replies_to(f"D{user}"))
    assert "Clinical Staff" not in reply["text"]
    assert len(slack.wait_for_posts(1, replies_to(f"D{user}"), timeout=0)) == 1


def test_a_429_from_slack_is_retried_after_its_retry_after(workspace, slack):
    user = new_user()
    slack.rate_limit_next, slack.retry_after = 1, 1
    workspace.send_event(workspace.message(ROLES_QUESTION, user, channel=f"D{user}"))
    [reply] = slack.wait_for_posts(1, replies_to(f"D{user}"))
    attempts = [a for a in slack.attempts if a["message"].get("channel") == f"D{user}"]
    assert len(attempts) == 2 and attempts[1]["message"] == reply
    assert attempts[1]["at"] - attempts[0]["at"] >= slack.retry_after
