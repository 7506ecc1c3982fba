"""The stack that `make run`, the end-to-end tests and the benchmarks start runs the backend in
its own venv: current aiohttp (with the request-smuggling fixes of 3.10.11+) and SQLAlchemy 2."""
import subprocess
from pathlib import Path

from bot.cli import BACKEND_PYTHON, isolated_stack


def test_the_stack_starts_the_backend_with_the_backend_venv(tmp_path):
    stack = isolated_stack(Path("models/m.tar.gz"), tmp_path)
    backend = next(service for service in stack.services if service.name == "backend")
    assert backend.argv[:3] == [str(BACKEND_PYTHON), "-m", "bot.backend"]
    versions = subprocess.run(
        [str(BACKEND_PYTHON), "-c", "import aiohttp, sqlalchemy; print(aiohttp.__version__, sqlalchemy.__version__)"],
        capture_output=True, text=True, check=True, timeout=60).stdout.split()
    aiohttp_version = tuple(int(part) for part in versions[0].split(".")[:3])
    assert aiohttp_version >= (3, 10, 11) and versions[1].startswith("2.")
