"""Who is asking: on Slack and Teams it is a staff member, never the patient.

Staff reach the bot through their workplace chat, so the flows that act on
the asker's own patient record (a new MyChart access code, a password reset
link, a username reminder) must not run there as if the asker were the
patient; the bot says what it does for staff instead.
"""
from rasa_sdk import Tracker

STAFF_CHANNELS = {"slack", "teams"}


def is_staff(tracker: Tracker) -> bool:
    return tracker.get_latest_input_channel() in STAFF_CHANNELS
