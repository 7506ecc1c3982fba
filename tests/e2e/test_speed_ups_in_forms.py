"""The speed-ups give what Rasa's own code gives in forms, with the real action server and backend.

tests/unit/test_rasa_server.py explains the comparison; forms need the
action server (with Rasa's credential) and the backend, so they run here.
"""
import uuid

import pytest
from rasa.utils.endpoints import EndpointConfig

from tests.e2e.conftest import backend_call
from tests.unit.test_rasa_server import same_conversations, same_rules_at_every_point, served_and_stock_agents


@pytest.fixture(scope="module")
def agents(stack):
    endpoint = EndpointConfig(f"{stack.actions_url}/webhook",
                              headers={"Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}"})
    return served_and_stock_agents(endpoint)


@pytest.fixture(scope="module")
def form_conversations(stack):
    """Forms to the end, with a side question, a correction, a refusal and a stop."""
    uid = uuid.uuid4().hex[:8]
    patient = {"first_name": "Avery", "last_name": f"Form{uid}", "date_of_birth": "1979-03-08",
               "email": f"avery.{uid}@example.org", "phone": "605-555-0177", "zip": "57104"}
    assert backend_call(stack, "POST", "/patients", patient)[0] == 201
    name, dob, email = f"Avery Form{uid}", "March 8, 1979", patient["email"]
    return [
        ["I need a new MyChart access code", name, "why do you need my birthday?", dob, email, "yes", "thanks"],
        ["I forgot my password", "yes", name, "2/30/1979", dob, email, "no"],
        ["I forgot my mychart username", "yes please", name, dob, "never mind"],
        ["I'm locked out of MyChart", "yes", name, dob, email, "yes"],
        ["can I see my mom's mychart", "she's 82", "what is proxy access?"],
        ["my 15 year old wants her own mychart", "I'm her mother", "no"],
    ]


def test_every_form_gets_the_same_replies_and_events(agents, form_conversations):
    same_conversations(*agents, form_conversations, "form")


def test_the_same_rules_apply_at_every_point_of_every_form(agents, form_conversations):
    assert same_rules_at_every_point(*agents, form_conversations, "form-rules") > 100
