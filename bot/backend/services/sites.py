"""Existing Avera System Link sites, by facility name: a facility may have only one."""
from typing import Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.backend.models import Site
from bot.backend.services import audit
from bot.backend.validation import normalize_name


async def site_exists(session: AsyncSession, facility_name: str) -> bool:
    query = select(Site.id).where(Site.name_key == normalize_name(facility_name))
    return (await session.execute(query)).first() is not None


async def add_site(session: AsyncSession, name: str, address: Optional[str], actor: str,
                   site_request_id: Optional[int] = None) -> None:
    site = Site(name=name, name_key=normalize_name(name), address=address, site_request_id=site_request_id)
    session.add(site)
    await session.flush()
    audit.record(session, actor, "site.created", "site", site.id)
