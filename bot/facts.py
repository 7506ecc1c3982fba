"""The recurring facts (phone numbers, limits) loaded once from facts.yml.

Actions, the backend and the tests read them from here so that a number
is written down in exactly one place.
"""
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

FACTS_PATH = Path(__file__).with_name("facts.yml")


@lru_cache(maxsize=1)
def facts() -> Dict[str, Any]:
    with FACTS_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def phone(key: str) -> str:
    """The support number for one of the keys under `phone_numbers`."""
    return facts()["phone_numbers"][key]["number"]
