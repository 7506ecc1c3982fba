"""The trainers' pages: the review inbox (/trainer) and the analytics (/trainer/analytics).

Rendered on the server from the same services as the API, with no script at
all: plain forms and links work by keyboard and screen reader, and the strict
CSP holds. The agent console's sign-in is the way in (an account with the
trainer role); each form carries the session's CSRF token. Charts are inline
SVG bars drawn here, each followed by a table with its numbers.
"""
from datetime import datetime, timedelta
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlencode

from aiohttp import web

from bot.backend.agent_auth import SESSION_COOKIE
from bot.backend.errors import ApiError
from bot.backend.routes.common import db_of, settings_of
from bot.backend.routes.review import TRAINER, date_range, training_data
from bot.backend.services import agents, analytics, review
from bot.web.pages import esc, paragraphs, render

CHART_WIDTH, BAR_HEIGHT, LABEL_WIDTH, LABEL_CHARACTERS = 640, 22, 260, 30
STYLESHEET = '<link rel="stylesheet" href="/static/trainer.css">\n'


def add_trainer_routes(app: web.Application) -> None:
    app.router.add_get("/trainer", inbox_page)
    app.router.add_post("/trainer/items/{item_id}", review_item)
    app.router.add_get("/trainer/analytics", analytics_page)


async def signed_in_trainer(request: web.Request) -> Optional[agents.SignedIn]:
    async with db_of(request).transaction() as session:
        return await agents.session_agent(session, settings_of(request), request.cookies.get(SESSION_COOKIE, ""))


def sign_in_first(status: int, why: str) -> web.Response:
    return render("Trainers' review", paragraphs(why) + '<p><a href="/agent">Sign in on the help-desk console</a>, '
                  "then come back to this page.</p>", status=status)


def guard(handler):
    """Only a signed-in account with the trainer role gets the page; others learn how to get in."""
    async def checked(request: web.Request) -> web.StreamResponse:
        trainer = await signed_in_trainer(request)
        if trainer is None:
            return sign_in_first(401, "You are not signed in, or your session ended.")
        if TRAINER not in trainer.roles:
            return sign_in_first(403, "This page is for accounts with the trainer role.")
        return await handler(request, trainer)
    return checked


def nav(current: str) -> str:
    links = [("/trainer", "Review inbox"), ("/trainer/analytics", "Analytics"), ("/agent", "Agent console")]
    current_mark = ' aria-current="page"'
    items = "".join(f'<li><a href="{href}"{current_mark if href == current else ""}>{esc(label)}</a></li>'
                    for href, label in links)
    return f'<nav aria-label="Trainer pages"><ul class="trainer-nav">{items}</ul></nav>'


def date_form(action: str, start: datetime, end: datetime) -> str:
    last = (end - timedelta(days=1)).date().isoformat()
    return f"""<form class="dates" method="get" action="{action}">
<label for="from">From</label> <input id="from" name="from" type="date" value="{start.date().isoformat()}">
<label for="to">To</label> <input id="to" name="to" type="date" value="{last}">
<button type="submit">Show</button></form>"""


@guard
async def inbox_page(request: web.Request, trainer: agents.SignedIn) -> web.Response:
    start, end = date_range(request)
    async with db_of(request).transaction() as session:
        groups = await review.inbox(session, start, end)
    data = training_data(request)
    intents = data.intents() if data else []
    notice = request.query.get("done", "")
    parts = [nav("/trainer"), date_form("/trainer", start, end)]
    if notice:
        parts.append(f'<p class="notice" role="status">{esc(notice)}</p>')
    if data is None:
        parts.append(paragraphs("BACKEND_TRAINING_DATA_DIR is not set: items can be read but not turned into examples."))
    options = "".join(f'<option value="{esc(intent)}">' for intent in intents)
    parts.append(f'<datalist id="intents">{options}</datalist>')
    if not groups:
        parts.append(paragraphs("Nothing to review in this period: every message was understood."))
    for number, group in enumerate(groups, 1):
        parts.append(group_section(number, group, trainer.csrf_token))
    return render("Review inbox", "".join(parts), head=STYLESHEET)


def group_section(number: int, group: Dict, csrf: str) -> str:
    rows = "".join(
        f"<tr><td>{esc(item['text'])}</td><td>{esc(item['reply'] or '')}</td><td>{esc(item['channel'] or '')}</td>"
        f"<td>{esc(item['intent'] or '-')} ({esc(str(item['confidence']))})</td>"
        f"<td>{esc(', '.join(item['reasons']))}</td><td>{item_form(item, group['suggested_intent'], csrf)}</td></tr>"
        for item in group["items"])
    heading = f"group-{number}"
    return f"""<section class="group" aria-labelledby="{heading}">
<h2 id="{heading}">“{esc(group['text'])}” <span class="count">{group['count']} × · {esc(', '.join(group['channels']))}</span></h2>
<p>Suggested intent: <strong>{esc(group['suggested_intent'] or 'none')}</strong></p>
<div class="table-scroll" role="region" aria-label="Messages in this group" tabindex="0">
<table><caption class="visually-hidden">Messages in this group</caption>
<thead><tr><th scope="col">Message</th><th scope="col">Bot's answer</th><th scope="col">Channel</th>
<th scope="col">Guessed intent (confidence)</th><th scope="col">Why listed</th><th scope="col">Decide</th></tr></thead>
<tbody>{rows}</tbody></table></div></section>"""


def item_form(item: Dict, suggested: Optional[str], csrf: str) -> str:
    field = f"intent-{item['id']}"
    return f"""<form method="post" action="/trainer/items/{item['id']}" class="decide">
<input type="hidden" name="csrf_token" value="{esc(csrf)}">
<label for="{field}">Intent</label>
<input id="{field}" name="intent" list="intents" value="{esc(suggested or '')}" required>
<button type="submit" name="decision" value="example">Add as example</button>
<button type="submit" name="decision" value="out_of_scope" formnovalidate>Out of scope</button>
</form>"""


async def review_item(request: web.Request) -> web.StreamResponse:
    trainer = await signed_in_trainer(request)
    if trainer is None or TRAINER not in trainer.roles:
        return sign_in_first(401 if trainer is None else 403, "Only a signed-in trainer may change training data.")
    form = await request.post()
    if not agents.csrf_matches(trainer, str(form.get("csrf_token", ""))):
        return render("Review inbox", paragraphs("This form was stale or came from another site; nothing changed.",
                                                 "Go back to the inbox and try again."), status=403, head=STYLESHEET)
    intent = "out_of_scope" if form.get("decision") == "out_of_scope" else str(form.get("intent", "")).strip()
    try:
        item = int(request.match_info["item_id"])
        async with db_of(request).transaction() as session:
            done = await review.add_example(session, training_data(request), item, intent)
        message = f"Added to {done['file']} as {done['intent']}: review with git diff, then run make check."
    except ValueError:
        message = "No such item."
    except ApiError as error:
        message = f"Nothing changed: {error.message}"
    raise web.HTTPSeeOther("/trainer?" + urlencode({"done": message}))


def bar_chart(title: str, rows: Sequence[Tuple[str, float]], unit: str = "") -> str:
    """A horizontal bar chart (inline SVG, hidden from screen readers) and the same numbers as a table."""
    top = max((value for _, value in rows), default=0) or 1
    bars = "".join(
        f'<text x="0" y="{i * BAR_HEIGHT + 15}" class="label">{esc(label[:LABEL_CHARACTERS])}</text>'
        f'<rect x="{LABEL_WIDTH}" y="{i * BAR_HEIGHT + 3}" height="{BAR_HEIGHT - 6}" '
        f'width="{max(1, round((CHART_WIDTH - LABEL_WIDTH - 60) * value / top))}" class="bar"></rect>'
        f'<text x="{LABEL_WIDTH + 6 + round((CHART_WIDTH - LABEL_WIDTH - 60) * value / top)}" '
        f'y="{i * BAR_HEIGHT + 15}" class="value">{esc(format_value(value, unit))}</text>'
        for i, (label, value) in enumerate(rows))
    if not rows:
        return f"<section class=\"chart-block\"><h2>{esc(title)}</h2><p>No data in this period.</p></section>"
    svg = (f'<svg class="chart" aria-hidden="true" focusable="false" width="{CHART_WIDTH}" '
           f'height="{max(1, len(rows)) * BAR_HEIGHT}" viewBox="0 0 {CHART_WIDTH} {max(1, len(rows)) * BAR_HEIGHT}">'
           f"{bars}</svg>")
    body = "".join(f"<tr><th scope=\"row\">{esc(label)}</th><td>{esc(format_value(value, unit))}</td></tr>"
                   for label, value in rows)
    return (f"<section class=\"chart-block\"><h2>{esc(title)}</h2>{svg}<table><caption class=\"visually-hidden\">"
            f"{esc(title)}</caption><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Value</th></tr></thead>"
            f"<tbody>{body}</tbody></table></section>")


def format_value(value: Optional[float], unit: str) -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{value * 100:.1f} %"
    return f"{value:g}"


@guard
async def analytics_page(request: web.Request, trainer: agents.SignedIn) -> web.Response:
    start, end = date_range(request)
    async with db_of(request).transaction() as session:
        figures = await analytics.summary(session, training_data(request), start, end)
    rates = [("Containment", figures["containment_rate"]), ("Fallback", figures["fallback_rate"]),
             ("Hand-off", figures["handoff_rate"])]
    forms: List[Tuple[str, float]] = []
    for form in figures["forms"]:
        name = form["form"].removesuffix("_form").replace("_", " ")
        forms += [(f"{name}: {outcome.replace('_', ' ')}", form[outcome])
                  for outcome in ("completed", "abandoned", "in_progress")]
    median = figures["median_turns_to_resolution"]
    content = "".join([
        nav("/trainer/analytics"), date_form("/trainer/analytics", start, end),
        paragraphs(f"{figures['conversations']} conversations and {figures['user_messages']} member messages; "
                   f"median messages in a contained conversation: {'-' if median is None else f'{median:g}'}."),
        bar_chart("Rates", [(label, value) for label, value in rates if value is not None], unit="%"),
        bar_chart("Conversations per day", [(d["day"], d["total"]) for d in figures["per_day"]]),
        bar_chart("Conversations per channel", list(figures["per_channel"].items())),
        bar_chart("Top intents", [(r["intent"], r["count"]) for r in figures["top_intents"]]),
        bar_chart("Topics that fail most", [(r["topic"], r["count"]) for r in figures["failing_topics"]]),
        bar_chart("Hand-off reasons", [(r["reason"], r["count"]) for r in figures["handoff_reasons"]]),
        bar_chart("Forms", forms),
    ])
    return render("Analytics", content, head=STYLESHEET)
