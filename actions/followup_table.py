"""actions/followups.yml, loaded once: read by the follow-up answers and by the support-number answer."""
from pathlib import Path
from typing import Any, Dict

import yaml

TABLE: Dict[str, Any] = yaml.safe_load(Path(__file__).with_name("followups.yml").read_text(encoding="utf-8"))
