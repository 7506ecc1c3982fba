"""Adds a reviewed message to the training data as a plain line edit.

The line goes under the intent's `examples: |` block in the data/nlu/<topic>.yml
file that already defines the intent, so the file keeps its layout and comments
and `git diff` shows exactly one added line, ready to review and commit.
Nothing is retrained here: the trainer runs `make check`, then commits.
"""
import re
from pathlib import Path
from typing import Dict, List, Optional, Set

import yaml

# Rasa reads [text](entity) and {"entity": ...} inside an example as annotations.
ENTITY_MARKUP = re.compile(r"\[[^\]]*\]\s*[({]")
MAX_EXAMPLE_LENGTH = 300


class TrainingDataError(Exception):
    """The example cannot be added; the message says why."""


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


class TrainingData:
    def __init__(self, root: Path):
        self.nlu_dir = root / "data" / "nlu"
        self.domain_file = root / "domain.yml"

    def intents(self) -> List[str]:
        """The intents a trainer may pick: the ones the domain declares."""
        domain = yaml.safe_load(self.domain_file.read_text(encoding="utf-8")) or {}
        return sorted(name if isinstance(name, str) else next(iter(name)) for name in domain.get("intents", []))

    def topics(self) -> Dict[str, str]:
        """intent -> topic, the name of the data/nlu file that holds its examples."""
        found = {}
        for path in sorted(self.nlu_dir.glob("*.yml")):
            for item in self._items(path):
                if item.get("intent"):
                    found.setdefault(item["intent"], path.stem)
        return found

    def examples(self) -> Set[str]:
        """Every example of every intent, normalised, to refuse a second copy."""
        found = set()
        for path in self.nlu_dir.glob("*.yml"):
            for item in self._items(path):
                for line in str(item.get("examples") or "").splitlines():
                    found.add(normalised(line.strip()[2:] if line.strip().startswith("- ") else line))
        return found

    def add_example(self, intent: str, text: str) -> Path:
        """Append `text` to `intent`'s examples; return the file changed."""
        example = " ".join(text.split())
        if not example or len(example) > MAX_EXAMPLE_LENGTH:
            raise TrainingDataError(f"An example must be 1 to {MAX_EXAMPLE_LENGTH} characters long.")
        if ENTITY_MARKUP.search(example):
            raise TrainingDataError("The message contains entity markup ([...](...)); add it by hand.")
        if intent not in self.intents():
            raise TrainingDataError(f"{intent!r} is not an intent of the domain.")
        if normalised(example) in self.examples():
            raise TrainingDataError("This message is already a training example.")
        path = self._file_of(intent)
        if path is None:
            raise TrainingDataError(f"No data/nlu file has examples for {intent!r} yet; add the intent by hand first.")
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        at, indent = self._insertion_point(lines, intent)
        lines.insert(at, f"{indent}- {example}\n")
        path.write_text("".join(lines), encoding="utf-8")
        return path

    def _file_of(self, intent: str) -> Optional[Path]:
        for path in sorted(self.nlu_dir.glob("*.yml")):
            if any(item.get("intent") == intent for item in self._items(path)):
                return path
        return None

    @staticmethod
    def _items(path: Path) -> List[dict]:
        return [item for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []
                if isinstance(item, dict)]

    @staticmethod
    def _insertion_point(lines: List[str], intent: str):
        """After the last example line of the intent's block, with the same indentation."""
        start = next(i for i, line in enumerate(lines) if re.match(rf"\s*-\s*intent:\s*{re.escape(intent)}\s*$", line))
        block = next(i for i in range(start + 1, len(lines)) if re.match(r"\s*examples:\s*\|", lines[i]))
        last, indent = block, None
        for i in range(block + 1, len(lines)):
            stripped = lines[i].strip()
            if not stripped or stripped.startswith("#"):
                continue
            current = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            if not stripped.startswith("- ") or (indent is not None and current != indent):
                break
            if indent is None and len(current) <= len(lines[block]) - len(lines[block].lstrip()):
                break
            indent, last = current, i
        if indent is None:
            raise TrainingDataError(f"The examples of {intent!r} are not a list this tool can extend.")
        if not lines[last].endswith("\n"):
            lines[last] += "\n"
        return last + 1, indent
