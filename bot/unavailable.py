"""What the member hears when the help desk cannot take a message (database down, replica lost).

Said by the chat channels (bot/channels/redacting.py) and by nginx in the
scale profile (bot/scale.py), so both say the same thing; nginx says
`slow_text` when a replica took too long to answer a turn. When no action
server answers, Rasa says `action_unavailable_text` (bot/rasa_server.py).
"""
from bot.facts import phone


def unavailable_text() -> str:
    return ("Sorry, I can't take in messages right now because our system isn't responding, so I didn't "
            "record that. Please try again in a few minutes, or call MyChart support at "
            f"{phone('mychart')} (24/7) and the team can help you directly.")


def slow_text() -> str:
    """A turn that outlasted the load balancer's wait: it may still be handled, so nothing is said to be lost."""
    return ("Sorry, the help desk is very busy and your message is taking longer than it should. It may still "
            "be handled, so please wait a minute before you send it again, or call MyChart support at "
            f"{phone('mychart')} (24/7) and the team can help you directly.")


def action_unavailable_text() -> str:
    return ("Sorry, I can't do that right now because our system isn't responding. Please try again in a few "
            f"minutes, or call MyChart support at {phone('mychart')} (24/7) and the team can help you directly.")
