"""The pages the System Link e-mails open: the e-mail confirmation and the signed agreement upload."""
from aiohttp import web

from bot.backend.services import site_requests
from bot.facts import facts, phone
from bot.web.pages import csrf_field, csrf_token, esc, paragraphs, render, with_csrf_cookie

SUPPORT = "Questions? Ask the Avera help desk chat, or call MyChart technical support at {} (24/7)."


def wants_page(request: web.Request) -> bool:
    """A browser following the e-mailed link (JSON clients get the API's answers)."""
    return "text/html" in request.headers.get("Accept", "")


def link_problem(message: str, status: int) -> web.Response:
    return render("This link doesn't work", paragraphs(
        message,
        "If you already completed this step, there is nothing more to do. "
        "Otherwise, ask the Avera help desk chat for the status of your site request.",
    ), status=status)


def next_steps(view: dict) -> str:
    if view["status"] == site_requests.AWAITING_AGREEMENT:
        return ("We still need the site agreement signed by an authorized representative of your facility: "
                "use the upload link from our other e-mail.")
    if view["status"] == site_requests.AWAITING_EMAIL:
        return ("Please also confirm your e-mail address with the link in the e-mail from "
                f"{facts()['system_link']['confirmation_sender']}.")
    return ("Your request is now under review by Avera. Approval can take up to a few weeks; Avera will reach "
            "out if there are questions, and you'll get an e-mail with the decision.")


def summary(view: dict) -> str:
    return (f'<p>Site request <span class="reference">{esc(view["reference"])}</span> '
            f'for {esc(view["facility"])}.</p>')


def email_confirmed(view: dict) -> web.Response:
    content = summary(view) + paragraphs(
        "Thank you: your e-mail address is confirmed.",
        next_steps(view),
    ) + (f'<p>To check on it later, ask the <a href="/">Avera help desk chat</a> '
          f'\u201cwhat is the status of {esc(view["reference"])}?\u201d</p>')
    return render("E-mail address confirmed", content)


def agreement_form(request: web.Request, reference: str, max_bytes: int, problem: str = "",
                   status: int = 200) -> web.Response:
    types = facts()["system_link"]["agreement_file_types"]
    accept = ",".join("." + ext for ext in types)
    csrf = csrf_token(request)
    alert = f'<div class="error-summary" role="alert"><p>{esc(problem)}</p></div>' if problem else ""
    content = f"""{alert}
<p>Upload the site agreement for request <span class="reference">{esc(reference)}</span>, printed, signed by an
authorized representative of your facility and scanned.</p>
<form method="post" enctype="multipart/form-data" class="stacked-form">
{csrf_field(csrf)}
<label for="agreement-file">Signed site agreement</label>
<p id="agreement-rules">Accepted file types: {esc(", ".join(types))}. Largest file: {max_bytes // (1024 * 1024)} MB.</p>
<input id="agreement-file" name="file" type="file" accept="{esc(accept)}" required aria-describedby="agreement-rules">
<button type="submit">Upload the agreement</button>
</form>
<p>{esc(SUPPORT.format(phone("mychart")))}</p>
"""
    return with_csrf_cookie(render("Upload the signed site agreement", content, status=status), request, csrf)


def agreement_received(view: dict) -> web.Response:
    content = summary(view) + paragraphs("Thank you: we received the signed site agreement.", next_steps(view))
    return render("Site agreement received", content)
