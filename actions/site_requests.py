"""Open an Avera System Link site request, and check one's status.

The form collects what the System Link request form asks for. The
facility is checked against existing sites first, because a facility that
already has a site must not request another. One idempotency key per form
means a repeated or retried submit never opens two requests; when the
backend is down the form is reopened at its confirmation, answers kept.
"""
import math
import re
import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backend_client
from actions.form_base import HelpfulFormValidation, reopen_at
from actions.messages import say
from actions.parsing import parse_full_name
from bot.contact_formats import find_email
from bot.facts import facts

ROLES: List[str] = facts()["system_link"]["roles"]
CONFIRMATION_SENDER = facts()["system_link"]["confirmation_sender"]
AGREEMENT_LATER = "later"
AGREEMENT_PURPOSE = "site_agreement"
WIDGET_CHANNEL = "socketio"  # the website chat widget, which can show a file picker
_LATER = re.compile(r"\b(later|not (yet|now)|don'?t have it|no)\b", re.I)
_ATTACHMENT_ID = re.compile(r"^(?:attachment[:\s]+)?([A-Za-z0-9-]{8,64})$")
_REFERENCE = re.compile(r"\bSR-?([A-Z0-9]{4,16})\b", re.I)
FORM_SLOTS = [
    "facility_name", "facility_has_site", "facility_address", "site_agreement",
    "admin_name", "admin_role", "admin_email", "add_second_admin",
    "second_admin_name", "second_admin_role", "second_admin_email",
    "terms_accepted", "requested_by", "requester_email", "site_request_confirmed",
    "site_request_idempotency_key",
]


def match_role(text: str) -> Optional[str]:
    """One of the eight roles from what the user typed ("biller", "non clinician")."""
    wanted = re.sub(r"[^a-z]", "", text.lower())
    if not wanted:
        return None
    for role in ROLES:
        if re.sub(r"[^a-z]", "", role.lower()) == wanted:
            return role
    candidates = [role for role in ROLES if wanted in re.sub(r"[^a-z]", "", role.lower())]
    return candidates[0] if len(candidates) == 1 else None


async def offer_upload(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Give the chat widget a file picker for the agreement, with an upload grant for this conversation.

    Rasa's socket.io channel emits a custom payload's "data" as the message, so the
    widget receives {"upload": {purpose, url, token, accept, max_bytes, expires_at}}.
    Without the backend the picker is left out; the member can still say "later".
    """
    try:
        grant = await backend_client.upload_grant(tracker.sender_id, AGREEMENT_PURPOSE)
    except (backend_client.BackendUnavailable, backend_client.Rejected, backend_client.RateLimited):
        return
    dispatcher.utter_message(json_message={"data": {"upload": grant}})


def parse_reference(text: str) -> Optional[str]:
    match = _REFERENCE.search(text or "")
    return f"SR-{match.group(1).upper()}" if match else None


class ValidateSiteRequestForm(HelpfulFormValidation):
    why_message = "why_site_request"
    form_slots = FORM_SLOTS
    strict_parsers = {
        "admin_role": match_role,
        "second_admin_role": match_role,
        "admin_email": find_email,
        "second_admin_email": find_email,
        "requester_email": find_email,
    }

    def name(self) -> Text:
        return "validate_site_request_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        if not tracker.get_slot("site_request_idempotency_key"):
            events.append(SlotSet("site_request_idempotency_key", uuid.uuid4().hex))
        asks_for = next((e["value"] for e in events if e.get("name") == "requested_slot"), None)
        if asks_for == "site_agreement" and tracker.get_latest_input_channel() == WIDGET_CHANNEL:
            await offer_upload(dispatcher, tracker)
        return events

    def question_values(self, tracker: Tracker) -> Dict[Text, Any]:
        later = tracker.get_slot("site_agreement") == AGREEMENT_LATER
        return {**tracker.slots, "agreement_summary": "to be sent later (we'll e-mail you a link)" if later else "uploaded"}

    def buttons_for(self, slot: Text) -> Optional[List[Dict[str, str]]]:
        if slot in ("admin_role", "second_admin_role"):
            return [{"title": role, "payload": role} for role in ROLES]
        return None

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if tracker.get_slot("facility_has_site"):
            return ["facility_name"]
        slots = ["facility_name", "facility_address", "site_agreement",
                 "admin_name", "admin_role", "admin_email", "add_second_admin"]
        if tracker.get_slot("add_second_admin"):
            slots += ["second_admin_name", "second_admin_role", "second_admin_email"]
        slots += ["terms_accepted", "requested_by"]
        if not self._requester_is_admin(tracker):
            slots.append("requester_email")
        return slots + ["site_request_confirmed"]

    @staticmethod
    def _requester_is_admin(tracker: Tracker) -> bool:
        requester = (tracker.get_slot("requested_by") or "").strip().lower()
        admins = [tracker.get_slot(slot) or "" for slot in ("admin_name", "second_admin_name")]
        return bool(requester) and requester in [a.strip().lower() for a in admins]

    async def validate_facility_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        name = " ".join(str(value or "").split())[:200]
        if len(name) < 2:
            return {"facility_name": None}
        try:
            has_site = await backend_client.facility_has_site(name)
        except (backend_client.BackendUnavailable, backend_client.Rejected, backend_client.RateLimited):
            has_site = False  # checked again by the backend when the request is submitted
        if has_site:
            say(dispatcher, "facility_has_site", facility_name=name)
        return {"facility_name": name, "facility_has_site": has_site}

    def validate_facility_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        address = " ".join(str(value or "").split())[:300]
        return {"facility_address": address if len(address) >= 5 else None}

    def validate_site_agreement(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if _LATER.search(text):
            return {"site_agreement": AGREEMENT_LATER}
        match = _ATTACHMENT_ID.match(text)
        if match and any(c.isdigit() for c in match.group(1)):
            return {"site_agreement": match.group(1)}
        say(dispatcher, "invalid_site_agreement")
        return {"site_agreement": None}

    def _validate_name(self, slot: Text, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        name = parse_full_name(str(value or ""))
        if name is None:
            say(dispatcher, "invalid_full_name")
            return {slot: None}
        return {slot: " ".join(name)}

    def _validate_role(self, slot: Text, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        role = match_role(str(value or ""))
        if role is None:
            say(dispatcher, "invalid_role")
        return {slot: role}

    def _validate_email(self, slot: Text, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        email = find_email(str(value or ""))
        if email is None:
            say(dispatcher, "invalid_email")
        return {slot: email}

    def validate_admin_name(self, value, dispatcher, tracker, domain):
        return self._validate_name("admin_name", value, dispatcher)

    def validate_second_admin_name(self, value, dispatcher, tracker, domain):
        return self._validate_name("second_admin_name", value, dispatcher)

    def validate_admin_role(self, value, dispatcher, tracker, domain):
        return self._validate_role("admin_role", value, dispatcher)

    def validate_second_admin_role(self, value, dispatcher, tracker, domain):
        return self._validate_role("second_admin_role", value, dispatcher)

    def validate_admin_email(self, value, dispatcher, tracker, domain):
        return self._validate_email("admin_email", value, dispatcher)

    def validate_second_admin_email(self, value, dispatcher, tracker, domain):
        return self._validate_email("second_admin_email", value, dispatcher)

    def validate_requester_email(self, value, dispatcher, tracker, domain):
        return self._validate_email("requester_email", value, dispatcher)

    def validate_add_second_admin(self, value, dispatcher, tracker, domain):
        return {"add_second_admin": self.yes_no(value, dispatcher, tracker)}

    def validate_terms_accepted(self, value, dispatcher, tracker, domain):
        accepted = self.yes_no(value, dispatcher, tracker)
        if accepted is False:
            say(dispatcher, "terms_required")
            return {"terms_accepted": None}
        return {"terms_accepted": accepted}

    def validate_requested_by(self, value, dispatcher, tracker, domain):
        name = " ".join(str(value or "").split())[:120]
        return {"requested_by": name if len(name) >= 2 else None}

    def validate_site_request_confirmed(self, value, dispatcher, tracker, domain):
        confirmed = self.yes_no(value, dispatcher, tracker)
        if confirmed is False:
            say(dispatcher, "site_request_not_submitted")
        return {"site_request_confirmed": confirmed}


def site_request_body(tracker: Tracker) -> Dict[str, Any]:
    administrators = [
        {"name": tracker.get_slot(f"{prefix}name"), "role": tracker.get_slot(f"{prefix}role"),
         "email": tracker.get_slot(f"{prefix}email")}
        for prefix in ("admin_", "second_admin_")
        if tracker.get_slot(f"{prefix}name")
    ]
    requester = (tracker.get_slot("requested_by") or "").strip().lower()
    requester_email = tracker.get_slot("requester_email") or next(
        (admin["email"] for admin in administrators if admin["name"].lower() == requester), None
    )
    agreement = tracker.get_slot("site_agreement")
    return {
        "facility": {"name": tracker.get_slot("facility_name"), "address": tracker.get_slot("facility_address")},
        "agreement_attachment_id": None if agreement == AGREEMENT_LATER else agreement,
        "administrators": administrators,
        "terms_accepted": tracker.get_slot("terms_accepted") is True,
        "requested_by": tracker.get_slot("requested_by"),
        "requester_email": requester_email,
    }


def when_to_retry(seconds: Optional[int]) -> str:
    """When the backend will take a site request again, from its Retry-After, in words."""
    if seconds is None:
        return "Please try again later."
    if seconds < 3600:
        minutes = max(1, math.ceil(seconds / 60))
        return f"Please try again in about {minutes} minute{'s' if minutes > 1 else ''}."
    hours = math.ceil(seconds / 3600)
    return f"Please try again in about {hours} hour{'s' if hours > 1 else ''}."


class SubmitSiteRequest(Action):
    """Submits the completed form; on a backend outage reopens it at the confirmation, for a retry."""

    def name(self) -> Text:
        return "action_submit_site_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        clear = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if tracker.get_slot("site_request_confirmed") is not True or tracker.get_slot("facility_has_site"):
            return clear  # the form already told the user why nothing was submitted
        try:
            created = await backend_client.open_site_request(
                site_request_body(tracker), tracker.get_slot("site_request_idempotency_key"),
                backend_client.client_address_of(tracker.events),
            )
        except backend_client.BackendUnavailable:
            say(dispatcher, "site_request_unavailable")
            return reopen_at("site_request_form", "site_request_confirmed")
        except backend_client.RateLimited as limited:
            say(dispatcher, "site_request_rate_limited", when=when_to_retry(limited.retry_after))
            return [SlotSet("site_request_confirmed", None)]
        except backend_client.Rejected as rejected:
            if rejected.status == 409:
                say(dispatcher, "facility_has_site", facility_name=tracker.get_slot("facility_name"))
            else:
                say(dispatcher, "site_request_rejected", reason=rejected.message)
            return clear
        waiting_for_agreement = created.get("status") == "awaiting_agreement"
        say(
            dispatcher,
            "site_request_submitted",
            reference=created["reference"],
            confirmation_sender=CONFIRMATION_SENDER,
            agreement_note=(
                "; we also e-mailed you a link to upload the signed site agreement, which we need before review"
                if waiting_for_agreement else ""
            ),
        )
        return clear


STATUS_TEXT = {
    "awaiting_agreement": "waiting for the signed site agreement. Please use the upload link we e-mailed to the requester.",
    "awaiting_email_confirmation": f"waiting for you to confirm your e-mail address. Look for the message from {CONFIRMATION_SENDER} and follow its instructions.",
    "under_review": "under review by Avera. Approval can take up to a few weeks; Avera will reach out if there are questions.",
    "approved": "approved. The e-mail from Avera System Link has the instructions to access your site.",
    "denied": "denied",
}


class ValidateSiteRequestStatusForm(HelpfulFormValidation):
    why_message = "why_site_request_reference"
    form_slots = ["site_request_reference"]
    strict_parsers = {"site_request_reference": parse_reference}

    def name(self) -> Text:
        return "validate_site_request_status_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        # "Has our site been approved yet?" is answered (how review and the e-mails work) before the
        # reference is asked for; someone who gave the reference only wants its status.
        starting = tracker.get_slot("requested_slot") is None
        if starting and not parse_reference(tracker.latest_message.get("text") or ""):
            say(dispatcher, "site_request_status_how", confirmation_sender=CONFIRMATION_SENDER)
        return await super().run(dispatcher, tracker, domain)

    async def extract_site_request_reference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        reference = parse_reference(tracker.latest_message.get("text") or "")
        if reference:
            return {"site_request_reference": reference}
        if tracker.get_slot("requested_slot") == "site_request_reference":
            say(dispatcher, "invalid_site_request_reference")
        return {}


class CheckSiteRequestStatus(Action):
    def name(self) -> Text:
        return "action_check_site_request_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        reference = tracker.get_slot("site_request_reference")
        if not reference:
            return []
        try:
            found = await backend_client.site_request_status(reference)
        except (backend_client.BackendUnavailable, backend_client.RateLimited, backend_client.Rejected):
            say(dispatcher, "site_request_status_unavailable")
            return [SlotSet("site_request_reference", None)]
        if found is None:
            say(dispatcher, "site_request_unknown", reference=reference)
        else:
            status = found.get("status")
            text = STATUS_TEXT.get(status, status)
            if status == "denied":
                text = f"denied. The reason: {found.get('denial_reason') or 'see the e-mail we sent'}."
            say(dispatcher, "site_request_status", reference=reference, status_text=text)
        return [SlotSet("site_request_reference", None)]
