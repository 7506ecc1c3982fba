"""Demo patients, sites and a help-desk agent, written on the first start so a fresh install has something to try."""
import logging
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.backend.db import Database
from bot.backend.models import Patient
from bot.backend.services.agents import create_agent
from bot.backend.services.patients import create_patient, parse_new_patient
from bot.backend.services.sites import add_site

DEMO_DATA = Path(__file__).with_name("demo_data.yml")
log = logging.getLogger(__name__)


async def seed_demo_data(db: Database) -> None:
    """Seed once: only while the patients table is empty."""
    async with db.transaction() as session:
        if (await session.execute(select(Patient.id).limit(1))).first():
            return
        data = yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8"))
        for patient in data["patients"]:
            await create_patient(session, parse_new_patient(patient), "system")
        for site in data["sites"]:
            await add_site(session, site["name"], site.get("address"), "system")
        for agent in data.get("agents", []):
            await create_agent(session, agent["username"], agent["display_name"], agent["password"],
                               agent["roles"], "system")
    log.info("seeded demo data: %d patients, %d sites", len(data["patients"]), len(data["sites"]))
