"""Property-based tests of the whole API from its own OpenAPI document, with schemathesis.

Schemathesis reads /api/v1/openapi.json from a running backend and sends every operation
generated requests, valid and invalid (examples, boundary cases, random data, malformed
bodies and content types). Every answer must be documented (status, content type, body
schema, headers) and none may be a server error. The quick profile here runs in `make
test`; SCHEMATHESIS_MAX_EXAMPLES=200 makes a longer run.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.asyncio
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance")


async def test_every_operation_answers_as_documented_and_never_with_a_server_error(start_backend, api_for,
                                                                                   tmp_path):
    server = start_backend(BACKEND_DEMO_PORTAL="true")
    api = api_for(server)
    # A real request, so that the operations on /site-requests/{ref} also reach existing data.
    reference = (await api.site_request()).body["reference"]
    config = tmp_path / "schemathesis.toml"  # the token comes from the environment, not a command line
    config.write_text(
        f'[parameters]\nref = "{reference}"\n\n'
        '[headers]\nAuthorization = "Bearer ${ST_TOKEN}"\n'
        f'X-Client-Address = "{api.client_address}"\n'
    )
    st = Path(sys.executable).with_name("st")
    done = subprocess.run(
        [str(st), "--config-file", str(config), "run", f"{server.url}/api/v1/openapi.json",
         "--checks", ",".join(CHECKS), "--max-examples", str(MAX_EXAMPLES), "--no-color",
         # One worker: CPython 3.11's ast.parse is not safe across threads, and hypothesis calls it.
         "--workers", "1", "--report-dir", str(tmp_path / "report")],
        cwd=tmp_path, env={**os.environ, "ST_TOKEN": api.admin_token}, capture_output=True, text=True,
        timeout=900,
    )
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", summary)
    assert selected and len(set(selected.groups())) == 1, summary  # every operation of the document ran
    assert "unexpected error" not in server.log(), server.log()[-4000:]
