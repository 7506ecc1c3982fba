"""Run conversation test sets against the help desk and print pass rates per topic.

    python -m bot.conversation_eval tests/conversations/heldout --min-pass 0.90
    python -m bot.conversation_eval tests/conversations/dev/lockout.yml --url http://127.0.0.1:5005 --verbose

A set is a YAML file, or a folder of them; each file is one topic (its name,
unless a conversation says `topic:`) and holds a list of conversations:

    - id: locked-then-how-long          # optional; <topic>-<n> otherwise
      turns:
        - say: "i got locked out of mychart"
          expect_all: ['five|5', '<phone:mychart>']   # every pattern must match
          expect_any: ['reset', 'new password']        # at least one must match
          expect_none: ['911']                         # none may match
        - say: "how long does that last?"
          ...

A one-question conversation may give `say` and the expectations at the top
level instead of `turns`. Patterns are case-insensitive regular expressions,
matched against the bot's reply to that turn (its texts and button titles).
`<phone:KEY>` stands for the number under `phone_numbers: KEY:` in
bot/facts.yml, written with any separators, so sets never copy a number.
A turn without expectations only has to get a reply. A conversation passes
when every turn does; a set passes when the share of conversations that pass
reaches --min-pass.

Each conversation talks over Rasa's REST channel with a sender id of its
own. Without --url, a stack of its own is started (bot.cli.isolated_stack,
with the current model), as `make test` does.
"""
import argparse
import json
import re
import sys
import tempfile
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

from bot.cli import isolated_stack, model_path
from bot.facts import phone

EXPECTATIONS = ("expect_all", "expect_any", "expect_none")
_PHONE_REFERENCE = re.compile(r"<phone:(\w+)>")


def phone_pattern(key: str) -> str:
    """855-667-9704 as a pattern that also accepts "855.667.9704" or "(855) 667 9704"."""
    area, exchange, line = re.findall(r"\d+", phone(key))
    return rf"\(?{area}\)?[-. ]?{exchange}[-. ]?{line}"


def expand(pattern: str) -> str:
    return _PHONE_REFERENCE.sub(lambda match: phone_pattern(match.group(1)), pattern)


@dataclass
class Turn:
    say: str
    expect_all: List[str] = field(default_factory=list)
    expect_any: List[str] = field(default_factory=list)
    expect_none: List[str] = field(default_factory=list)

    def problems(self, reply: str) -> List[str]:
        """What is wrong with the bot's reply to this turn (nothing when it passes)."""
        if not reply.strip():
            return ["no reply"]

        def found(pattern: str) -> bool:
            return re.search(expand(pattern), reply, re.I | re.S) is not None

        problems = [f"missing /{p}/" for p in self.expect_all if not found(p)]
        if self.expect_any and not any(found(p) for p in self.expect_any):
            problems.append(f"none of {self.expect_any}")
        problems += [f"must not say /{p}/" for p in self.expect_none if found(p)]
        return problems


@dataclass
class Conversation:
    id: str
    topic: str
    turns: List[Turn]


@dataclass
class Outcome:
    conversation: Conversation
    transcript: List[Tuple[str, str, List[str]]]  # (user, bot, problems) per turn sent

    @property
    def passed(self) -> bool:
        return len(self.transcript) == len(self.conversation.turns) and not any(p for _, _, p in self.transcript)


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (plain YAML silently keeps the last)."""


def _mapping_without_repeats(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    keys = [loader.construct_object(key, deep=True) for key, _ in node.value]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise yaml.constructor.ConstructorError(None, None, f"{repeated} given twice", node.start_mark)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_repeats)


def load_set(path: Path) -> List[Conversation]:
    """The conversations of one file, or of every *.yml file in a folder (one topic per file)."""
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"no conversation files in {path}")
    conversations = []
    for file in files:
        with file.open(encoding="utf-8") as stream:
            entries = yaml.load(stream, Loader=_StrictLoader) or []
        for number, entry in enumerate(entries, 1):
            turns = entry["turns"] if "turns" in entry else [entry]
            unknown = set(entry) - {"id", "topic", "turns", "say", *EXPECTATIONS}
            if unknown or not turns or any("say" not in t for t in turns):
                raise ValueError(f"{file}: conversation {number} is malformed ({sorted(unknown) or 'a turn without say'})")
            conversations.append(Conversation(
                id=str(entry.get("id", f"{file.stem}-{number}")),
                topic=entry.get("topic", file.stem),
                turns=[Turn(str(t["say"]), *[list(t.get(name) or []) for name in EXPECTATIONS]) for t in turns],
            ))
    for pattern in (p for c in conversations for t in c.turns for name in EXPECTATIONS for p in getattr(t, name)):
        re.compile(expand(pattern))  # a typo in a pattern fails the whole run, not one conversation
    return conversations


def send(rasa_url: str, sender: str, message: str) -> str:
    """The bot's reply over the REST channel: its texts and button titles, one per line."""
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook", data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        replies = json.loads(response.read() or b"[]")
    parts = []
    for reply in replies:
        parts.append(reply.get("text") or "")
        parts += [button.get("title", "") for button in reply.get("buttons") or []]
    return "\n".join(part for part in parts if part)


def run_conversation(rasa_url: str, conversation: Conversation) -> Outcome:
    sender = f"eval-{conversation.id}-{uuid.uuid4().hex[:8]}"
    transcript = []
    for turn in conversation.turns:
        try:
            reply = send(rasa_url, sender, turn.say)
        except OSError as error:  # a dead or failing server is a failed turn, not a crash
            transcript.append((turn.say, "", [f"error: {error}"]))
            break
        transcript.append((turn.say, reply, turn.problems(reply)))
    return Outcome(conversation, transcript)


def run_set(rasa_url: str, conversations: Iterable[Conversation]) -> List[Outcome]:
    return [run_conversation(rasa_url.rstrip("/"), c) for c in conversations]


def pass_rate(outcomes: List[Outcome]) -> float:
    return sum(o.passed for o in outcomes) / len(outcomes) if outcomes else 0.0


def report(name: str, outcomes: List[Outcome], min_pass: Optional[float] = None) -> str:
    """The per-topic table: conversations passed, total and pass rate, then the overall line."""
    topics: Dict[str, List[Outcome]] = {}
    for outcome in outcomes:
        topics.setdefault(outcome.conversation.topic, []).append(outcome)
    lines = [f"{name}: {len(outcomes)} conversations", f"  {'topic':20s} {'passed':>6s} {'total':>5s} {'rate':>7s}"]
    for topic, group in sorted(topics.items()):
        lines.append(f"  {topic:20s} {sum(o.passed for o in group):6d} {len(group):5d} {pass_rate(group):7.1%}")
    required = f" (required: {min_pass:.0%})" if min_pass is not None else ""
    lines.append(f"  {'overall':20s} {sum(o.passed for o in outcomes):6d} {len(outcomes):5d} "
                 f"{pass_rate(outcomes):7.1%}{required}")
    follow_ups = [not problems for o in outcomes for _, _, problems in o.transcript[1:]]
    if follow_ups:
        openings = [not o.transcript[0][2] for o in outcomes if o.transcript]
        lines.append(f"  turns right: first messages {sum(openings) / len(openings):.1%} of {len(openings)}, "
                     f"follow-ups {sum(follow_ups) / len(follow_ups):.1%} of {len(follow_ups)}")
    return "\n".join(lines)


def failures(outcomes: List[Outcome]) -> str:
    """Each failing conversation's transcript up to its first wrong turn, with what was wrong."""
    lines = []
    for outcome in (o for o in outcomes if not o.passed):
        lines.append(f"FAIL {outcome.conversation.id} [{outcome.conversation.topic}]")
        for user, bot, problems in outcome.transcript:
            lines.append(f"   user: {user}")
            lines.append("   bot:  " + bot.replace("\n", "\n         "))
            if problems:
                lines.append(f"   wrong: {'; '.join(problems)}")
                break
    return "\n".join(lines)


def evaluate(sets: List[Path], rasa_url: str, min_pass: Optional[float], verbose: bool) -> bool:
    ok = True
    for path in sets:
        outcomes = run_set(rasa_url, load_set(path))
        if verbose:
            print(failures(outcomes))
        print(report(str(path), outcomes, min_pass), flush=True)
        ok = ok and (min_pass is None or pass_rate(outcomes) >= min_pass)
    return ok


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+", type=Path, help="conversation files or folders of them")
    parser.add_argument("--url", help="a running Rasa server; without it a stack of its own is started")
    parser.add_argument("--min-pass", type=float, help="fail when a set's pass rate is below this (0-1)")
    parser.add_argument("--verbose", action="store_true", help="print the failing transcripts")
    args = parser.parse_args(argv)
    if args.url:
        return 0 if evaluate(args.sets, args.url, args.min_pass, args.verbose) else 1
    model = model_path()
    if not model.exists():
        print(f"No trained model at {model}: run `make train` first.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="conversation-eval-") as work:
        print("Starting a help desk of its own (backend, actions, Rasa)...", flush=True)
        with isolated_stack(model, Path(work)) as stack:
            return 0 if evaluate(args.sets, stack.rasa_url, args.min_pass, args.verbose) else 1


if __name__ == "__main__":
    sys.exit(main())
