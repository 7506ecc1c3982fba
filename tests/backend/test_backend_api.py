"""Cross-cutting API behaviour: tokens, the error format, patients, and the OpenAPI document."""
import pytest

from bot.backend.app import create_app
from bot.backend.settings import Settings

pytestmark = pytest.mark.asyncio

ADMIN_ONLY = [("POST", "/patients"), ("GET", "/outbox"), ("POST", "/site-requests/SR-X/decision")]
ACTIONS = [("POST", "/access-codes/reissue"), ("POST", "/accounts/password-reset"),
           ("POST", "/accounts/username-reminder"), ("POST", "/attachments"), ("GET", "/sites?facility=x"),
           ("POST", "/site-requests"), ("GET", "/site-requests/SR-X")]


def assert_error(reply, status: int) -> None:
    assert reply.status == status, reply.body
    assert set(reply.body) == {"error"} and {"code", "message"} <= set(reply.body["error"])


@pytest.mark.parametrize("method, path", ADMIN_ONLY + ACTIONS)
async def test_protected_endpoints_need_a_valid_bearer_token(api, method, path):
    for token in (None, "not-the-token"):
        reply = await api.call(method, path, token=token)
        assert_error(reply, 401)
        assert reply.headers.get("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize("method, path", ADMIN_ONLY)
async def test_the_actions_token_may_not_call_admin_endpoints(api, method, path):
    assert_error(await api.call(method, path, token="actions"), 403)


async def test_the_admin_token_may_call_actions_endpoints(api):
    reply = await api.get("/sites?facility=Avera%20Demo%20Clinic", token="admin")
    assert (reply.status, reply.body) == (200, {"exists": True})


@pytest.mark.parametrize("path", ["/patients", "/access-codes/reissue", "/accounts/login", "/site-requests"])
async def test_malformed_json_is_a_400(api, path):
    reply = await api.call("POST", path, data=b'{"first_name": ', headers={"Content-Type": "application/json",
                                                                              "Idempotency-Key": "k"})
    assert_error(reply, 400)
    assert reply.body["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("path", ["/patients", "/access-codes/reissue", "/accounts/login",
                                  "/accounts/password-reset/complete", "/site-requests/SR-X/decision"])
@pytest.mark.parametrize("body", [[], "text", 7, {}, {"first_name": {"nested": True}, "approve": "yes",
                                                         "date_of_birth": 19840229, "password": 12}])
async def test_wrong_shapes_are_a_422_never_a_500(api, path, body):
    assert_error(await api.post(path, body, headers={"Idempotency-Key": "k"}), 422)


@pytest.mark.parametrize("bad", ["nul\u0000byte", "lone \ud800 surrogate"])
async def test_text_a_database_cannot_store_is_a_422(api, bad):
    patient = {"first_name": bad, "last_name": "Tester", "date_of_birth": "1980-05-17", "zip": "57104",
               "email": f"x.{api.unique()}@example.org"}
    assert_error(await api.post("/patients", patient), 422)
    assert_error(await api.post("/access-codes/reissue", patient, token="actions"), 422)
    assert_error(await api.post("/accounts/password-reset/complete", {"token": bad, "new_password": "x" * 9},
                                token=None), 422)
    assert_error(await api.post("/accounts/login", {"username": "a@example.org", "password": bad}, token=None), 422)
    assert_error(await api.get("/sites?facility=nul%00byte", token="actions"), 422)
    assert_error(await api.get("/site-requests/SR-%00", token="actions"), 404)


async def test_unknown_paths_and_methods_answer_in_the_error_format(api):
    assert_error(await api.get("/no-such-thing"), 404)
    assert_error(await api.call("DELETE", "/patients"), 405)


async def test_a_patient_gets_a_portal_account_unless_told_otherwise(api, db):
    patient = await api.create_patient(password="Demo-password-1")
    login = await api.post("/accounts/login", {"username": patient["email"].upper(), "password": "Demo-password-1"},
                           token=None)
    assert login.status == 200
    duplicate = await api.post("/patients", {**patient, "first_name": "Other"})
    assert_error(duplicate, 409)

    without = await api.create_patient(portal_account=False)
    accounts = await db.scalar("SELECT count(*) FROM portal_accounts WHERE patient_id = :id", id=without["id"])
    assert accounts == 0
    assert await db.tables_containing("Demo-password-1") == []


@pytest.mark.parametrize("change, field", [
    ({"date_of_birth": "1980-13-01"}, "date_of_birth"),
    ({"zip": "ABCDE"}, "zip"),
    ({"email": None}, "email"),
    ({"email": None, "phone": None, "portal_account": False}, "email"),
    ({"password": "short"}, "password"),
    ({"portal_account": "no"}, "portal_account"),
    ({"last_name": "x" * 101}, "last_name"),
])
async def test_invalid_patients_are_a_422_naming_the_field(api, change, field):
    body = {"first_name": "Avery", "last_name": "Tester", "date_of_birth": "1980-05-17",
            "email": f"x.{api.unique()}@example.org", "phone": "605-555-0150", "zip": "57104", **change}
    reply = await api.post("/patients", {k: v for k, v in body.items() if v is not None})
    assert_error(reply, 422)
    assert field in reply.body["error"]["fields"]


async def test_every_route_is_in_the_openapi_document_and_back(api):
    document = (await api.get("/openapi.json", token=None)).body
    assert document["openapi"].startswith("3.")
    prefix = document["servers"][0]["url"]
    documented = {(method.upper(), prefix + path) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    settings = Settings.from_env({"BACKEND_ADMIN_TOKEN": "a", "BACKEND_ACTIONS_TOKEN": "b",
                                  "BACKEND_SECRET_KEY": "c", "BACKEND_DATABASE_URL": "sqlite+aiosqlite://"})
    registered = {(route.method, route.resource.canonical) for route in create_app(settings).router.routes()
                  if route.method != "HEAD" and route.resource.canonical.startswith(prefix)}
    assert registered == documented
