"""The action server against the real backend, driven with tracker JSON like Rasa sends."""
import json
import random
import urllib.request
import uuid
from typing import Optional

import yaml

from bot.cli import ROOT
from bot.facts import phone
from tests.e2e.conftest import outbox

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())


def action_call(stack, action: str, slots: dict, text: str = "", intent: str = "affirm",
                just_set: tuple = (), client_address: Optional[str] = "__new__") -> bytes:
    """The body Rasa posts to the action server to run one action.

    The latest user message carries the client address in its metadata, as the channels record it
    (a new one per call unless given; None for a channel that records none)."""
    if client_address == "__new__":
        client_address = f"198.19.{random.randint(0, 255)}.{random.randint(1, 254)}"
    message = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    metadata = {"client_address": client_address} if client_address else {}
    tracker = {
        "sender_id": f"actions-{uuid.uuid4().hex[:8]}",
        "slots": slots,
        "latest_message": message,
        "events": [{"event": "user", "text": text, "parse_data": message, "metadata": metadata}]
        + [{"event": "slot", "name": name, "value": slots[name]} for name in just_set],
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return json.dumps({"next_action": action, "tracker": tracker, "domain": DOMAIN}).encode()


def run_action(stack, action: str, slots: dict, text: str = "", intent: str = "affirm",
               just_set: tuple = (), client_address: Optional[str] = "__new__") -> dict:
    """Run one action as Rasa does (with its credential); `just_set` names the slots the latest message filled."""
    request = urllib.request.Request(
        f"{stack.actions_url}/webhook",
        data=action_call(stack, action, slots, text, intent, just_set, client_address),
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def identity_slots(patient, **overrides):
    slots = {"full_name": f"{patient['first_name']} {patient['last_name']}",
             "date_of_birth": patient["date_of_birth"], "contact_on_file": patient["email"],
             "identity_confirmed": True}
    slots.update(overrides)
    return slots


def texts(result) -> str:
    return "\n".join(m.get("text") or "" for m in result["responses"])


def test_reissue_action_queues_a_code_and_forgets_the_identity(stack, new_patient, backend):
    patient = new_patient()
    result = run_action(stack, "action_reissue_access_code", identity_slots(patient))
    assert "If the details match our records" in texts(result)
    assert {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}["full_name"] is None
    assert len(outbox(backend, patient["email"])) == 1


def test_reissue_action_without_a_client_address_sends_nothing_and_gives_the_number(stack, new_patient, backend):
    """The backend limits identity checks per client address and refuses them without one."""
    patient = new_patient()
    result = run_action(stack, "action_reissue_access_code", identity_slots(patient), client_address=None)
    assert "If the details match our records" not in texts(result) and phone("mychart") in texts(result)
    assert outbox(backend, patient["email"]) == []


def test_a_phone_contact_hears_that_text_messages_cannot_be_sent(stack, new_patient, backend):
    patient = new_patient()
    result = run_action(stack, "action_reissue_access_code", identity_slots(patient, contact_on_file="6055550142"))
    assert "If the details match our records" in texts(result)
    assert "cannot send text messages" in texts(result) and phone("mychart") in texts(result)


def test_reissue_action_without_confirmation_sends_nothing(stack, new_patient, backend):
    patient = new_patient()
    run_action(stack, "action_reissue_access_code", identity_slots(patient, identity_confirmed=None))
    assert outbox(backend, patient["email"]) == []


def test_wrong_birthday_sends_nothing_but_reads_the_same(stack, new_patient, backend):
    patient = new_patient()
    result = run_action(stack, "action_reissue_access_code", identity_slots(patient, date_of_birth="1985-01-01"))
    assert "If the details match our records" in texts(result)
    assert outbox(backend, patient["email"]) == []


def test_validation_rejects_an_impossible_date(stack):
    result = run_action(stack, "validate_access_code_reissue_form",
                        {"date_of_birth": "2/30/1990", "requested_slot": "date_of_birth"},
                        text="2/30/1990", intent="nlu_fallback", just_set=("date_of_birth",))
    assert "couldn't read that as a real date of birth" in texts(result)
    assert {"event": "slot", "name": "date_of_birth", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in result["events"]]
