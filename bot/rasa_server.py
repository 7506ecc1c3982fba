"""`rasa run` as this project serves it: loopback, secrets from the environment, speed-ups.

    python -m bot.rasa_server run --model ... (the same arguments as `rasa run`)

For `run` only, and only on the Rasa version it was written for:
- Rasa listens on RASA_HOST (default 127.0.0.1) unless `--interface` is given.
- With `--enable-api`, the HTTP API takes JWTs signed with RASA_TOKEN (see
  bot/rasa_api.py), which is read here from the environment and never
  appears on the command line; a plain `--auth-token` (which travels in
  URLs as `?token=`) is refused.
- Speed-ups replace Rasa internals that have no extension point (the graph
  runner, the action-response validator, the event-class lookup, slot copies,
  the action server's HTTP session) with code that gives the same result
  (tests/unit/test_rasa_server.py compares them with Rasa's).
- When no action server answers (directly, or a load balancer in front says
  502-504), the member hears it could not be done right now and the number
  to call, and a form keeps asking the question it asked; Rasa would log the
  error and reply nothing, and a form would keep the unchecked answer and
  move on (tests/e2e/test_faults_mid_form.py, bench/faults.py).
The featurizer, classifier and rule-search speed-ups are components named in
config.yml (bot/nlu/sentence_features.py, bot/nlu/fast_classifier.py, bot/policies.py), so every Rasa
command uses them. Any other command is passed to Rasa unchanged.
"""
import asyncio
import functools
import os
import sys
from typing import Any, Dict, List, Optional, Text, Tuple

import aiohttp
import jsonschema
import ujson
from dotenv import load_dotenv
import rasa
import rasa.core.processor
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.actions.action import RemoteAction
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import BotUttered, Event, SlotSet
from rasa.shared.core.slots import Slot
from rasa.shared.exceptions import RasaException

from bot.unavailable import action_unavailable_text

RASA_VERSION = "3.6.21"
DEFAULT_HOST = "127.0.0.1"
SECRET_OPTIONS = ("--auth-token", "-t", "--jwt-secret", "--jwt-private-key")


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    """The validator of action-server responses, its schema checked once.

    Rasa calls `jsonschema.validate` on every action-server response, which
    checks the (large, constant) events schema against the JSON Schema
    meta-schema each time: about 29 ms per call, three calls on a form turn.
    """
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@functools.lru_cache(maxsize=1)
def validators_by_event_type() -> Tuple[Any, Dict[Text, Any]]:
    """A validator of the response without its events' schema, and one per event type.

    An event must match exactly one of the schema's 23 `oneOf` branches, and each
    branch requires its own `event` name (a `const`): an event whose name is a string
    matches exactly one branch iff it matches its own name's. So checking the
    response's shape, then each event against its own branch alone, accepts exactly
    what the whole schema accepts, without trying the 22 other branches on every event.
    """
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    shape = {**schema, "properties": {**schema["properties"], "events": {"type": "array"}}}
    items = schema["properties"]["events"]["items"]
    by_type = {branch["properties"]["event"]["const"]: validator_class({**items, "oneOf": [branch]})
               for branch in items["oneOf"]}
    return validator_class(shape), by_type


def is_valid_action_result(result: Any) -> bool:
    """Whether the response is valid, the events checked by their own type (see above)."""
    shape, by_type = validators_by_event_type()
    if not shape.is_valid(result):
        return False
    for event in result.get("events") or []:
        name = event.get("event") if isinstance(event, dict) else None
        validator = by_type.get(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(_action: RemoteAction, result: Dict[Text, Any]) -> bool:
    """RemoteAction._validate_action_result: a valid response passes on the fast path.

    What the fast path does not accept goes through the whole schema, so an invalid
    response raises Rasa's error, with Rasa's message.
    """
    if is_valid_action_result(result):
        return True
    error = jsonschema.exceptions.best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


class SequentialGraphRunner(DaskGraphRunner):
    """Runs the model's graph in a fixed order worked out once per set of targets.

    Rasa's runner builds a dask graph, computes the minimal schema and formats
    its inputs into a debug message on every call (one to parse a message, one
    per predicted action), about a tenth of a turn. The graph's nodes are pure functions of their inputs, so
    any order that puts each node after the nodes it needs gives the same
    outputs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: Dict[Tuple[Text, ...], List[Tuple[Text, List[Text]]]] = {}

    def _plan(self, targets: Tuple[Text, ...]) -> List[Tuple[Text, List[Text]]]:
        """(node, the names it needs), each node after the nodes it needs, once, for these targets."""
        if targets not in self._plans:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            plan: List[Tuple[Text, List[Text]]] = []
            placed = set()

            def place(name: Text) -> None:
                if name in schema.nodes and name not in placed:
                    placed.add(name)
                    needs = list(schema.nodes[name].needs.values())
                    for need in needs:
                        place(need)
                    plan.append((name, needs))

            for target in targets:
                place(target)
            self._plans[targets] = plan
        return self._plans[targets]

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        plan = self._plan(run_targets)
        outputs: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and any(value == node for node, _ in plan):
                raise GraphRunError(f"Input value '{value}' clashes with a node name.")
            outputs[name] = (name, value)
        try:
            for name, needs in plan:
                # As with dask, a need that nothing provides is passed as its bare name.
                outputs[name] = self._instantiated_nodes[name](*(outputs.get(need, need) for need in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return {target: outputs[target][1] for target in run_targets}


_remote_action_run = RemoteAction.run
GATEWAY_ERRORS = (502, 503, 504)  # a load balancer with no action server to send the call to


def action_server_unreachable(error: RasaException) -> bool:
    cause = error.__context__
    return isinstance(cause, aiohttp.ClientConnectionError) or (
        isinstance(cause, ClientResponseError) and cause.status in GATEWAY_ERRORS)


async def run_remote_action(action: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                            domain: Any) -> List[Event]:
    """RemoteAction.run; when no action server answers, tell the member, and keep a form where it was.

    A form's validation that could not run leaves the slot Rasa filled from the
    message unchecked: it is emptied and asked for again (Rasa would move on to
    the form's next empty slot in domain.yml, not the one the actions ask next).
    """
    try:
        return await _remote_action_run(action, output_channel, nlg, tracker, domain)
    except RasaException as error:
        if not action_server_unreachable(error):
            raise
    events: List[Event] = [BotUttered(text=action_unavailable_text())]
    requested = tracker.get_slot(REQUESTED_SLOT)
    if action.name().startswith("validate_") and requested:
        events += [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)]
    return events


_resolve_by_type = Event.resolve_by_type


@functools.lru_cache(maxsize=None)
def event_class(type_name: Text) -> Optional[type]:
    """The Event subclass for a type name; None for a name Rasa does not know."""
    try:
        return _resolve_by_type(type_name)
    except ValueError:
        return None


def resolve_by_type(type_name: Text, default: Optional[type] = None) -> Optional[type]:
    """Event.resolve_by_type from a cache: Rasa walks every Event subclass for every event it reads.

    That walk was a twentieth of a turn: a tracker read from the store and each action's events
    are deserialised event by event.
    """
    found = event_class(type_name)
    return found if found is not None else _resolve_by_type(type_name, default)


def copy_slot(slot: Slot) -> Slot:
    """copy.copy(slot) without the pickle protocol's detour: a new object with the same attributes.

    Every tracker Rasa builds copies each slot of the domain, and the rule search builds one per
    event of the conversation: a twentieth of a turn through copy.copy's generic path.
    """
    duplicate = slot.__class__.__new__(slot.__class__)
    duplicate.__dict__.update(slot.__dict__)
    return duplicate


# An idle connection is closed by this side first (the action server's, Sanic's, after 5 s), so a
# call never goes out on a connection the server is closing.
KEEPALIVE_SECONDS = 2.0


class ActionCallJSON:
    """ujson.dumps of a call to the action server, the domain encoded once.

    Rasa sends the domain (about 46 KB of JSON) with every call, always the same dict
    (`Domain.as_dict()` returns the domain's own data); encoding it was a fiftieth of a turn.
    The text is the same as ujson.dumps of the whole body: the domain is the body's last key.
    """

    def __init__(self) -> None:
        self._domain: Any = None
        self._encoded = ""

    def __call__(self, body: Any) -> str:
        if not (isinstance(body, dict) and body and next(reversed(body)) == "domain"
                and isinstance(body["domain"], dict)):
            return ujson.dumps(body)
        domain = body["domain"]
        if domain is not self._domain:
            self._domain, self._encoded = domain, ujson.dumps(domain)
        rest = ujson.dumps({key: value for key, value in body.items() if key != "domain"})
        return ("{" if rest == "{}" else rest[:-1] + ",") + '"domain":' + self._encoded + "}"


class KeptSession:
    """`async with endpoint.session()` on one session that stays open, per endpoint and event loop.

    Rasa opens a new aiohttp session, and so a new connection, for every call to the action
    server. This one keeps its connections alive between calls and encodes the request body
    (the tracker and the domain, about 60 KB) with ujson, Rasa's own JSON dependency.
    """

    def __init__(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint

    async def __aenter__(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        # One session per event loop (a session belongs to the loop it was opened on); a closed loop's goes.
        kept = self.endpoint._kept_sessions = {
            other: session for other, session in getattr(self.endpoint, "_kept_sessions", {}).items()
            if not other.is_closed()}
        session = kept.get(loop)
        if session is None or session.closed:
            auth = (aiohttp.BasicAuth(self.endpoint.basic_auth["username"], self.endpoint.basic_auth["password"])
                    if self.endpoint.basic_auth else None)
            session = kept[loop] = aiohttp.ClientSession(
                headers=self.endpoint.headers, auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                json_serialize=ActionCallJSON())
        return session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


def kept_session(endpoint: EndpointConfig) -> KeptSession:
    return KeptSession(endpoint)


# (where, name, replacement): what apply() installs.
REPLACEMENTS = [
    (RemoteAction, "_validate_action_result", validate_action_result),
    (rasa.core.processor, "DaskGraphRunner", SequentialGraphRunner),
    (RemoteAction, "run", run_remote_action),
    (Event, "resolve_by_type", staticmethod(resolve_by_type)),
    (EndpointConfig, "session", kept_session),
    (Slot, "__copy__", copy_slot),  # Rasa's Slot has none: copy.copy falls back on __reduce_ex__
]


def apply() -> None:
    for owner, name, replacement in REPLACEMENTS:
        setattr(owner, name, replacement)


def run_arguments(arguments: List[str], env: Dict[str, str]) -> Tuple[List[str], str]:
    """The `rasa run` arguments as served, and the interface Rasa will listen on.

    Loopback unless RASA_HOST or `--interface` opens it; with `--enable-api`,
    the API's JWT secret from the environment. The list becomes this
    process's own `sys.argv`: the command line that `ps` shows stays
    without the secret.
    """
    if rasa.__version__ != RASA_VERSION:
        raise SystemExit(f"bot/rasa_server.py was written for Rasa {RASA_VERSION}, not {rasa.__version__}: "
                         "check its speed-ups against the new version (tests/unit/test_rasa_server.py).")
    given = [argument.split("=", 1)[0] for argument in arguments]
    if set(given) & set(SECRET_OPTIONS):
        raise SystemExit("Secrets do not go on the command line: set RASA_TOKEN in the environment or .env.")
    served = list(arguments)
    interface = next((arguments[i].split("=", 1)[1] if "=" in arguments[i] else arguments[i + 1]
                      for i, name in enumerate(given) if name in ("--interface", "-i")), None)
    if interface is None:
        interface = env.get("RASA_HOST") or DEFAULT_HOST
        served.append(f"--interface={interface}")
    if "--enable-api" in given:
        secret = env.get("RASA_TOKEN", "").strip()
        if not secret:
            raise SystemExit("--enable-api needs RASA_TOKEN (the HTTP API's JWT secret) in the environment or .env.")
        served += [f"--jwt-secret={secret}", "--jwt-method=HS256"]
    return served, interface


def main() -> None:
    from rasa.__main__ import main as rasa_main

    if sys.argv[1:2] == ["run"] and sys.argv[2:3] != ["actions"]:
        load_dotenv(override=False)
        sys.argv[2:], interface = run_arguments(sys.argv[2:], dict(os.environ))
        os.environ["RASA_HOST"] = interface  # what the REST channel checks (bot/channels/redacting.py)
        apply()
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
