"""Rasa's event stream turned into what the review inbox and the analytics read.

Events arrive one at a time, in each conversation's order, from Rasa's event
broker (bot/backend/event_feed.py). A user message becomes a ReviewTurn; the
events after it say what became of it: the fallback, a hand-off, a complaint
("that's not what I asked"), the next thing the user said. Forms become
FormRuns with an outcome. Answers typed while a form collects identity or
contact details are stored masked, so they can never be read in the inbox or
become training examples.

Applying an event twice changes nothing: user messages and form starts are
keyed by the event, and the last event of each conversation is remembered,
because a broker that redelivers after a crash redelivers exactly that one.
"""
import hashlib
import json
import re
from datetime import datetime
from typing import Any, Dict, Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.models import FormRun, ReviewConversation, ReviewTurn
from bot.review_events import REVIEWED_EVENTS

MASKED_TEXT = "[answer inside a form: not kept]"
# Forms whose answers are not identity or contact details: kept readable.
FORMS_WITHOUT_PERSONAL_ANSWERS = {"record_access_form", "site_request_status_form"}
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {"utter_ask_rephrase", "utter_fallback_options", "action_default_fallback"}
COMPLAINT_INTENTS = {"frustration"}
ASKING_FOR_A_PERSON = COMPLAINT_INTENTS | {"request_human"}
HANDOFF_ACTION = re.compile(r"handoff|hand_off|escalat", re.I)
NOT_A_RESULT = {"action_listen", "action_session_start"}
MAX_REPLY_LENGTH = 2000


def event_key(event: Dict[str, Any]) -> str:
    """A stable id for one event of one conversation."""
    parts = [event.get("sender_id"), event.get("event"), repr(event.get("timestamp")),
             event.get("message_id") or event.get("name") or event.get("text")]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def best_intent(parse_data: Dict[str, Any]) -> "tuple[Optional[str], Optional[float]]":
    """The intent the classifier preferred; under the fallback, the best real one behind it."""
    ranking = [parse_data.get("intent") or {}] + list(parse_data.get("intent_ranking") or [])
    for candidate in ranking:
        if candidate.get("name") and candidate["name"] != FALLBACK_INTENT:
            return candidate["name"], candidate.get("confidence")
    return None, None


async def apply_event(session: AsyncSession, event: Dict[str, Any]) -> None:
    sender_id = event.get("sender_id")
    kind = event.get("event")
    if not sender_id or kind not in REVIEWED_EVENTS:
        return
    moment = datetime.utcfromtimestamp(float(event.get("timestamp") or 0))
    key = event_key(event)
    conversation = await _get(session, ReviewConversation, sender_id)
    if conversation is None:
        conversation = _keep(session, ReviewConversation(sender_id=sender_id, started_at=moment,
                                                         last_event_at=moment, handed_off=False))
        session.add(conversation)
    elif conversation.last_event_key == key:
        return  # redelivered
    conversation.last_event_key = key
    conversation.last_event_at = max(conversation.last_event_at, moment)
    if kind == "user":
        await _user_message(session, conversation, event, key, moment)
    elif kind == "action":
        await _action(session, conversation, event.get("name") or "", moment)
    elif kind == "bot":
        await _bot_message(session, conversation, event.get("text") or "")
    else:
        await _active_loop(session, conversation, event.get("name"), key, moment)


async def _user_message(session: AsyncSession, conversation: ReviewConversation, event: Dict[str, Any],
                        key: str, moment: datetime) -> None:
    if await session.scalar(select(ReviewTurn.id).where(ReviewTurn.event_key == key)):
        return
    parse_data = event.get("parse_data") or {}
    intent, confidence = best_intent(parse_data)
    top = (parse_data.get("intent") or {}).get("name")
    masked = _in_personal_form(conversation)
    conversation.channel = conversation.channel or event.get("input_channel")
    await _settle_ended_form(session, conversation)
    previous = await _last_turn(session, conversation)
    if previous is not None:
        previous.next_intent = intent
        if top in COMPLAINT_INTENTS:
            previous.followed_by_complaint = True
    turn = ReviewTurn(
        event_key=key, sender_id=conversation.sender_id, channel=event.get("input_channel"),
        created_at=moment, text=MASKED_TEXT if masked else (event.get("text") or "").strip()[:2000],
        masked=masked, intent=intent, confidence=confidence, fell_back=top == FALLBACK_INTENT,
        followed_by_complaint=False, followed_by_handoff=False, review_status="open",
    )
    session.add(turn)
    await session.flush()
    conversation.last_turn_id = _keep(session, turn).id


async def _action(session: AsyncSession, conversation: ReviewConversation, name: str, moment: datetime) -> None:
    turn = await _last_turn(session, conversation)
    if name in FALLBACK_ACTIONS and turn is not None:
        turn.fell_back = True
    if HANDOFF_ACTION.search(name):
        conversation.handed_off = True
        if turn is not None and turn.intent in ASKING_FOR_A_PERSON:
            turn = await _turn_before(session, turn)  # what the bot failed at came before the request
        if turn is not None:
            turn.followed_by_handoff = True
    if conversation.ended_form_run_id and name not in NOT_A_RESULT:
        if conversation.ended_form_run_id < 0:
            conversation.ended_form_run_id = None  # the result action said nothing: it stays abandoned
            return
        # The action right after a form ends delivers its result; the form counts as completed
        # only if that action says something (a cancelled form's result action is silent).
        run = await session.get(FormRun, conversation.ended_form_run_id)
        run.outcome = "abandoned"
        conversation.ended_form_run_id = -run.id


async def _bot_message(session: AsyncSession, conversation: ReviewConversation, text: str) -> None:
    turn = await _last_turn(session, conversation)
    if turn is not None and text:
        shown = MASKED_TEXT if _in_personal_form(conversation) else text
        turn.reply = ((turn.reply + "\n") if turn.reply else "") + shown
        turn.reply = turn.reply[:MAX_REPLY_LENGTH]
    if conversation.ended_form_run_id and conversation.ended_form_run_id < 0:
        run = await session.get(FormRun, -conversation.ended_form_run_id)
        run.outcome = "completed"
        conversation.ended_form_run_id = None


async def _active_loop(session: AsyncSession, conversation: ReviewConversation, name: Optional[str],
                       key: str, moment: datetime) -> None:
    if name:
        if conversation.active_form == name:
            return
        await _close_pending(session, conversation, moment)
        if not await session.scalar(select(FormRun.id).where(FormRun.event_key == key)):
            session.add(FormRun(event_key=key, sender_id=conversation.sender_id, form=name, started_at=moment))
        conversation.active_form = name
        return
    if conversation.active_form:
        run = await session.scalar(
            select(FormRun).where(FormRun.sender_id == conversation.sender_id, FormRun.form == conversation.active_form,
                                  FormRun.outcome.is_(None)).order_by(FormRun.id.desc()).limit(1))
        conversation.active_form = None
        if run is not None:
            run.ended_at = moment
            conversation.ended_form_run_id = run.id


async def _close_pending(session: AsyncSession, conversation: ReviewConversation, moment: datetime) -> None:
    """A form left for another: the one before it is abandoned."""
    if conversation.active_form:
        await _active_loop(session, conversation, None, "", moment)
    await _settle_ended_form(session, conversation)


async def _settle_ended_form(session: AsyncSession, conversation: ReviewConversation) -> None:
    """A form that ended without a result that spoke is abandoned."""
    if conversation.ended_form_run_id:
        run = await session.get(FormRun, abs(conversation.ended_form_run_id))
        run.outcome = run.outcome or "abandoned"
    conversation.ended_form_run_id = None


def _in_personal_form(conversation: ReviewConversation) -> bool:
    return bool(conversation.active_form) and conversation.active_form not in FORMS_WITHOUT_PERSONAL_ANSWERS


async def _last_turn(session: AsyncSession, conversation: ReviewConversation) -> Optional[ReviewTurn]:
    return await _get(session, ReviewTurn, conversation.last_turn_id) if conversation.last_turn_id else None


def _keep(session: AsyncSession, row: Any) -> Any:
    """Hold `row` for the rest of the transaction (a feed batch).

    The session's identity map holds unchanged rows weakly: without this, every event of a batch
    would read its conversation and last turn from the database again after the previous event's flush.
    """
    session.info.setdefault("review_feed_rows", set()).add(row)
    return row


async def _get(session: AsyncSession, model: Any, key: Any) -> Any:
    """session.get, the row held for the transaction: the next event of the conversation finds it in memory."""
    row = await session.get(model, key)
    return row if row is None else _keep(session, row)


async def _turn_before(session: AsyncSession, turn: ReviewTurn) -> Optional[ReviewTurn]:
    return await session.scalar(select(ReviewTurn).where(
        ReviewTurn.sender_id == turn.sender_id, ReviewTurn.id < turn.id).order_by(ReviewTurn.id.desc()).limit(1))
