"""Local stand-ins for Slack's and Microsoft's clouds, speaking their protocols over loopback HTTP.

Only the edge of this machine is faked: the Rasa server under test calls
these over real HTTP exactly as it would call slack.com or the Bot
Framework, and the tests sign their requests as Slack and Microsoft do.
"""
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class FakeServer:
    """A threaded HTTP server on loopback; `handle(method, path, headers, body)` gives (status, headers, body)."""

    def __init__(self, handle: Callable, port: int = 0):
        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, body = handle(self.command, self.path, self.headers, self.rfile.read(length))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def json_reply(status: int, body: Any, headers: Optional[Dict[str, str]] = None):
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


class FakeSlack:
    """Slack's Web API (chat.postMessage with a bearer token), with a 429 on demand."""

    def __init__(self, bot_token: str, signing_secret: str):
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.posts: List[Dict[str, Any]] = []
        self.attempts: List[Dict[str, Any]] = []  # every call, 429s included, with its time
        self.rate_limit_next = 0
        self.retry_after = 1
        self.released = threading.Event()  # cleared: chat.postMessage waits, like a slow Slack
        self.released.set()
        self.on_post: Callable[[Dict[str, Any]], None] = lambda message: None
        self._lock = threading.Condition()
        self.server = FakeServer(self.handle)
        self.api_url = f"{self.server.url}/api/"

    def handle(self, method, path, headers, body):
        if method != "POST" or path != "/api/chat.postMessage":
            return json_reply(404, {"ok": False, "error": "unknown_method"})
        if headers.get("Authorization") != f"Bearer {self.bot_token}":
            return json_reply(200, {"ok": False, "error": "invalid_auth"})
        if headers.get("Content-Type", "").startswith("application/json"):
            message = json.loads(body)
        else:
            message = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        self.released.wait(60)
        with self._lock:
            self.attempts.append({"at": time.monotonic(), "message": message})
            if self.rate_limit_next:
                self.rate_limit_next -= 1
                return json_reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(self.retry_after)})
            self.posts.append(message)
            self._lock.notify_all()
        self.on_post(message)
        return json_reply(200, {"ok": True, "channel": message.get("channel"), "ts": f"{time.time():.6f}"})

    def wait_for_posts(self, count: int, where: Callable[[Dict], bool] = lambda post: True,
                       timeout: float = 60) -> List[Dict[str, Any]]:
        """The posts matching `where`, once there are at least `count` of them."""
        with self._lock:
            self._lock.wait_for(lambda: len([p for p in self.posts if where(p)]) >= count, timeout)
            return [p for p in self.posts if where(p)]

    def sign(self, body: bytes, timestamp: Optional[int] = None, secret: Optional[str] = None) -> Dict[str, str]:
        timestamp = int(time.time()) if timestamp is None else timestamp
        base = f"v0:{timestamp}:".encode() + body
        digest = hmac.new((secret or self.signing_secret).encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}

    def close(self):
        self.server.close()


class FakeMicrosoft:
    """The Bot Framework's issuer (OpenID metadata + JWKS), token endpoint and connector service."""

    ISSUER = "https://api.botframework.com"

    def __init__(self, app_id: str, app_password: str, port: int = 0):
        self.app_id = app_id
        self.app_password = app_password
        self.rotate_key()
        self.replies: List[Dict[str, Any]] = []
        self.released = threading.Event()  # cleared: the connector holds replies, like a slow service
        self.released.set()
        self.on_reply: Callable[[Dict[str, Any]], None] = lambda activity: None
        self.token_requests = 0
        self.issued_tokens: List[str] = []
        self._lock = threading.Condition()
        self.server = FakeServer(self.handle, port)
        self.url = self.server.url
        self.metadata_url = f"{self.url}/v1/.well-known/openidconfiguration"
        self.token_url = f"{self.url}/oauth2/v2.0/token"
        self.service_url = f"{self.url}/connector/"

    def rotate_key(self) -> None:
        """A new signing key under a new key id, as Microsoft rotates its keys."""
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"key-{uuid.uuid4().hex[:8]}"

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwks(self) -> Dict[str, Any]:
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        key.update(kid=self.kid, use="sig", endorsements=["msteams"])
        return {"keys": [key]}

    def handle(self, method, path, headers, body):
        if path == "/v1/.well-known/openidconfiguration":
            return json_reply(200, {"issuer": self.ISSUER, "jwks_uri": f"{self.url}/v1/.well-known/keys",
                                    "id_token_signing_alg_values_supported": ["RS256"]})
        if path == "/v1/.well-known/keys":
            return json_reply(200, self.jwks())
        if path == "/oauth2/v2.0/token" and method == "POST":
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
            if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                    "client_credentials", self.app_id, self.app_password):
                return json_reply(401, {"error": "invalid_client"})
            with self._lock:
                self.token_requests += 1
                token = f"connector-token-{uuid.uuid4().hex}"
                self.issued_tokens.append(token)
            return json_reply(200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token})
        if path.startswith("/connector/v3/conversations/") and method == "POST":
            if headers.get("Authorization") not in {f"Bearer {t}" for t in self.issued_tokens}:
                return json_reply(401, {"error": "unauthorized"})
            self.released.wait(60)
            with self._lock:
                self.replies.append({"path": path, "activity": json.loads(body)})
                self._lock.notify_all()
            self.on_reply(self.replies[-1]["activity"])
            return json_reply(200, {"id": uuid.uuid4().hex})
        return json_reply(404, {"error": "not found"})

    def revoke_tokens(self) -> None:
        """The connector refuses every token issued so far, as when Microsoft revokes them early."""
        with self._lock:
            self.issued_tokens.clear()

    def token(self, **overrides) -> str:
        """A Bot Framework token for an activity, signed with this issuer's key unless overridden."""
        now = int(time.time())
        claims = {"iss": self.ISSUER, "aud": self.app_id, "exp": now + 3600, "nbf": now - 10,
                  "serviceUrl": self.service_url}
        headers = {"kid": overrides.pop("kid", self.kid)}
        key = overrides.pop("key", self.private_key)
        algorithm = overrides.pop("algorithm", "RS256")
        claims.update(overrides)
        return jwt.encode(claims, key, algorithm=algorithm, headers=headers)

    def activity(self, text: Optional[str] = None, user: str = "29:staff-user", conversation: str = "a:conv",
                 tenant: str = "tenant-a", **extra) -> Dict[str, Any]:
        activity = {
            "type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": self.service_url,
            "from": {"id": user, "name": "Staff Member"}, "recipient": {"id": "28:bot", "name": "Avera Help"},
            "conversation": {"id": conversation, "tenantId": tenant},
            "channelData": {"tenant": {"id": tenant}},
        }
        if text is not None:
            activity["text"] = text
        activity.update(extra)
        return activity

    def wait_for_replies(self, count: int, where: Callable[[Dict], bool] = lambda reply: True,
                         timeout: float = 60) -> List[Dict[str, Any]]:
        with self._lock:
            self._lock.wait_for(lambda: len([r for r in self.replies if where(r)]) >= count, timeout)
            return [r for r in self.replies if where(r)]

    def close(self):
        self.server.close()
