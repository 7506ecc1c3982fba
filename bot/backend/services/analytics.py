"""How the bot is doing, over a date range, from what the event feed recorded.

A conversation is contained when it ended without a hand-off and without the
fallback. A form counts as completed when its result was delivered, abandoned
when it ended (or was left) without one.
"""
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.models import Escalation, FormRun, ReviewConversation, ReviewTurn
from bot.backend.services.review import LOW_CONFIDENCE
from bot.backend.training_data import TrainingData

TOP = 10


def rate(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


async def summary(session: AsyncSession, data: Optional[TrainingData], start: datetime, end: datetime) -> Dict:
    conversations = (await session.scalars(select(ReviewConversation).where(
        ReviewConversation.started_at >= start, ReviewConversation.started_at < end))).all()
    turns = (await session.scalars(select(ReviewTurn).where(
        ReviewTurn.created_at >= start, ReviewTurn.created_at < end))).all()
    turns_of: Dict[str, List[ReviewTurn]] = defaultdict(list)
    for turn in turns:
        turns_of[turn.sender_id].append(turn)
    contained = [c for c in conversations
                 if not c.handed_off and not any(t.fell_back for t in turns_of[c.sender_id])]
    per_day: Dict[str, Counter] = defaultdict(Counter)
    for c in conversations:
        per_day[c.started_at.date().isoformat()][c.channel or "unknown"] += 1
    topics = data.topics() if data else {}
    failing = Counter(topics.get(t.intent, t.intent or "unknown") for t in turns
                      if t.fell_back or t.followed_by_complaint or (t.confidence or 0) < LOW_CONFIDENCE)
    reasons = Counter((e.reason or "unspecified") for e in (await session.scalars(select(Escalation).where(
        Escalation.created_at >= start, Escalation.created_at < end))).all())
    forms: Dict[str, Counter] = defaultdict(Counter)
    for run in (await session.scalars(select(FormRun).where(FormRun.started_at >= start, FormRun.started_at < end))).all():
        forms[run.form][run.outcome or ("abandoned" if run.ended_at else "in_progress")] += 1
    handed_off = sum(1 for c in conversations if c.handed_off)
    turns_to_resolution = [len(turns_of[c.sender_id]) for c in contained if turns_of[c.sender_id]]
    return {
        "from": start.date().isoformat(), "to": (end - timedelta(days=1)).date().isoformat(),
        "conversations": len(conversations),
        "user_messages": len(turns),
        "per_day": [{"day": day, "channels": dict(sorted(counts.items())), "total": sum(counts.values())}
                    for day, counts in sorted(per_day.items())],
        "per_channel": dict(sorted(Counter(c.channel or "unknown" for c in conversations).items())),
        "containment_rate": rate(len(contained), len(conversations)),
        "fallback_rate": rate(sum(1 for t in turns if t.fell_back), len(turns)),
        "handoff_rate": rate(handed_off, len(conversations)),
        "handoff_reasons": [{"reason": r, "count": n} for r, n in reasons.most_common()],
        "top_intents": [{"intent": i, "count": n}
                        for i, n in Counter(t.intent for t in turns if t.intent).most_common(TOP)],
        "failing_topics": [{"topic": topic, "count": n} for topic, n in failing.most_common(TOP)],
        "forms": [{"form": form, "completed": c["completed"], "abandoned": c["abandoned"],
                   "in_progress": c["in_progress"]} for form, c in sorted(forms.items())],
        "median_turns_to_resolution": statistics.median(turns_to_resolution) if turns_to_resolution else None,
    }
