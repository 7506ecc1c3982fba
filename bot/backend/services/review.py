"""The review inbox: messages the bot did not handle well, grouped by similar wording.

A message needs review when the fallback took it, when its intent was
uncertain, or when the user's next words were a complaint or a hand-off
followed. Similar messages (most of their words shared) form one group, so a
trainer fixes a wording once, with the evidence of how often it comes up.
The suggested intent is what the user's next message was understood as
(people rephrase), else what the classifier guessed.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional, Set

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.errors import ApiError
from bot.backend.models import ReviewTurn, utc_text
from bot.backend.services.conversation_feed import COMPLAINT_INTENTS
from bot.backend.training_data import TrainingData, TrainingDataError, normalised

LOW_CONFIDENCE = 0.5
SIMILAR_WORDING = 0.5  # share of words in common (Jaccard) that puts two messages in one group
MAX_ITEMS = 2000
CONTEXT_TURNS = 3
STOP_WORDS = {"a", "an", "the", "i", "my", "me", "to", "is", "it", "do", "can", "how", "of", "for", "and", "on", "in"}
NOT_SUGGESTED = COMPLAINT_INTENTS | {"nlu_fallback", "out_of_scope", "request_human", "affirm", "deny", "thank"}
OUT_OF_SCOPE_INTENT = "out_of_scope"
NO_SUCH_ITEM = "No such review item."


def reasons(turn: ReviewTurn) -> List[str]:
    found = []
    if turn.fell_back:
        found.append("fallback")
    elif turn.confidence is not None and turn.confidence < LOW_CONFIDENCE:
        found.append("low_confidence")
    if turn.followed_by_complaint:
        found.append("complaint_followed")
    if turn.followed_by_handoff:
        found.append("handoff_followed")
    return found


def words(text: str) -> Set[str]:
    return set(normalised(text).split()) - STOP_WORDS


@dataclass
class Group:
    words: Set[str]
    turns: List[ReviewTurn] = field(default_factory=list)

    def as_dict(self) -> Dict:
        suggestions = Counter(t.next_intent for t in self.turns if t.next_intent and t.next_intent not in NOT_SUGGESTED)
        if not suggestions:
            suggestions = Counter(t.intent for t in self.turns if t.intent and t.intent not in NOT_SUGGESTED)
        return {
            "count": len(self.turns),
            "text": self.turns[0].text,
            "suggested_intent": suggestions.most_common(1)[0][0] if suggestions else None,
            "channels": sorted({t.channel or "unknown" for t in self.turns}),
            "items": [turn_as_dict(t) for t in self.turns],
        }


def turn_as_dict(turn: ReviewTurn) -> Dict:
    return {
        "id": turn.id, "text": turn.text, "reply": turn.reply, "channel": turn.channel,
        "intent": turn.intent, "confidence": None if turn.confidence is None else round(turn.confidence, 3),
        "reasons": reasons(turn), "created_at": utc_text(turn.created_at), "conversation_id": turn.sender_id,
    }


def group_by_wording(turns: List[ReviewTurn]) -> List[Group]:
    groups: List[Group] = []
    for turn in turns:
        mine = words(turn.text)
        best: Optional[Group] = None
        best_score = SIMILAR_WORDING
        for group in groups:
            union = mine | group.words
            score = len(mine & group.words) / len(union) if union else 1.0
            if score >= best_score:
                best, best_score = group, score
        if best is None:
            groups.append(Group(words=mine, turns=[turn]))
        else:
            best.turns.append(turn)
    return sorted(groups, key=lambda g: (-len(g.turns), g.turns[0].created_at))


async def inbox(session: AsyncSession, start: datetime, end: datetime) -> List[Dict]:
    turns = (await session.scalars(
        select(ReviewTurn).where(
            ReviewTurn.review_status == "open", ReviewTurn.masked.is_(False),
            ReviewTurn.created_at >= start, ReviewTurn.created_at < end,
            or_(ReviewTurn.fell_back.is_(True), ReviewTurn.confidence < LOW_CONFIDENCE,
                ReviewTurn.followed_by_complaint.is_(True), ReviewTurn.followed_by_handoff.is_(True)),
        ).order_by(ReviewTurn.created_at.desc()).limit(MAX_ITEMS)
    )).all()
    return [group.as_dict() for group in group_by_wording(list(turns))]


async def context(session: AsyncSession, turn_id: int) -> Dict:
    """The messages around one item, in its conversation."""
    turn = await open_turn(session, turn_id, must_be_open=False)
    around = (await session.scalars(
        select(ReviewTurn).where(ReviewTurn.sender_id == turn.sender_id).order_by(ReviewTurn.created_at, ReviewTurn.id)
    )).all()
    at = next(i for i, t in enumerate(around) if t.id == turn.id)
    window = around[max(0, at - CONTEXT_TURNS): at + CONTEXT_TURNS + 1]
    return {"item": turn_as_dict(turn), "conversation": [turn_as_dict(t) for t in window]}


async def open_turn(session: AsyncSession, turn_id: int, must_be_open: bool = True) -> ReviewTurn:
    turn = await session.get(ReviewTurn, turn_id)
    if turn is None:
        raise ApiError(404, NO_SUCH_ITEM)
    if turn.masked:
        raise ApiError(409, "Answers given inside a form are never kept and cannot become examples.")
    if must_be_open and turn.review_status != "open":
        raise ApiError(409, f"This item was already reviewed ({turn.review_status}).")
    return turn


async def add_example(session: AsyncSession, data: Optional[TrainingData], turn_id: int, intent: str) -> Dict:
    """Write the message as an example of `intent` (out_of_scope marks it out of scope)."""
    if data is None:
        raise ApiError(409, "BACKEND_TRAINING_DATA_DIR is not set: the backend does not know which checkout to edit.",
                       code="not_configured")
    turn = await open_turn(session, turn_id)
    try:
        path = data.add_example(intent, turn.text)
    except TrainingDataError as error:
        raise ApiError(422, str(error), fields={"intent": str(error)}) from None
    status = "out_of_scope" if intent == OUT_OF_SCOPE_INTENT else "example_added"
    same = (await session.scalars(select(ReviewTurn).where(ReviewTurn.review_status == "open"))).all()
    for other in [t for t in same if not t.masked and normalised(t.text) == normalised(turn.text)] or [turn]:
        other.review_status, other.reviewed_intent = status, intent
    return {"id": turn.id, "status": status, "intent": intent, "file": f"data/nlu/{path.name}"}
