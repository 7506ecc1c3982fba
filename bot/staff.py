"""Staff channels: on Slack and Teams the asker is a staff member, never the patient.

Staff reach the bot through their workplace chat, so the flows that act on
the asker's own patient record (a new MyChart access code, a password reset
link, a username reminder) must neither be offered nor run there as if the
asker were the patient. The actions check the input channel (`is_staff`);
the staff channels' replies use the domain's `channel: staff` response
variations and leave out buttons that would start such a flow.
"""
from typing import Any, Dict, List

from rasa_sdk import Tracker

STAFF_CHANNELS = {"slack", "teams"}
# The output channel name of both staff channels: domain responses pick `channel: staff` variations.
STAFF_RESPONSES = "staff"
PATIENT_ONLY_PAYLOADS = {"/request_access_code", "/request_password_reset", "/request_username_reminder"}


def is_staff(tracker: Tracker) -> bool:
    return tracker.get_latest_input_channel() in STAFF_CHANNELS


def staff_buttons(buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The buttons a staff member may be offered."""
    return [button for button in buttons if button.get("payload") not in PATIENT_ONLY_PAYLOADS]
