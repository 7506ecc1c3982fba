"""Which of Rasa's events the trainers' review feed reads (bot/backend/services/conversation_feed.py).

The brokers that carry events to it (bot/event_broker.py) publish only these: the
rest (slots, session starts, featurizations) would cost a write and a read each,
about half of a form turn's events, and a slot may hold what a member typed in a form.
Shared by both sides, so it imports nothing.
"""
REVIEWED_EVENTS = frozenset({"user", "action", "bot", "active_loop"})
