"""The desk's teams, agents, services… by the names import files use, loaded once."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    CatalogueItem,
    Change,
    KnowledgeArticle,
    Service,
    Team,
)
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.i18n import _


class ImportNames:
    """The desk's teams, agents, services… by the names files use, loaded once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.teams = {
            name.lower(): (id_, name) for id_, name in session.execute(select(Team.id, Team.name))
        }
        self.services = {
            name.lower(): (id_, name)
            for id_, name in session.execute(select(Service.id, Service.name))
        }
        # Historical tickets may name items since retired: inactive items count too.
        self.items = {
            code.lower(): (id_, code)
            for id_, code in session.execute(select(CatalogueItem.id, CatalogueItem.code))
        }
        agents = session.execute(select(Agent.id, Agent.username)).all()
        self.agents_exact = {username: id_ for id_, username in agents}
        self.agents = {username.lower(): id_ for id_, username in agents}
        self.changes: dict[str, int | None] = {}
        self.articles: dict[str, int | None] = {}

    @staticmethod
    def _known(names: Iterable[str], limit: int = 12) -> str:
        names = sorted(names)
        shown = ", ".join(names[:limit])
        return (shown + (", …" if len(names) > limit else "")) or "—"

    def team(self, name: str | None) -> int | None:
        if name is None:
            return None
        found = self.teams.get(name.strip().lower())
        if found is None:
            raise InvalidInput(
                _("unknown team {name!r}; teams: {known}; add it in the desk file first").format(
                    name=name, known=self._known(n for _, n in self.teams.values())
                )
            )
        return found[0]

    def service(self, name: str | None) -> int | None:
        if name is None:
            return None
        found = self.services.get(name.strip().lower())
        if found is None:
            raise InvalidInput(
                _("unknown service {name!r}; services: {known}").format(
                    name=name, known=self._known(n for _, n in self.services.values())
                )
            )
        return found[0]

    def item(self, code: str | None) -> int | None:
        if code is None:
            return None
        found = self.items.get(code.strip().lower())
        if found is None:
            raise InvalidInput(
                _("unknown catalogue item {code!r}; items: {known}").format(
                    code=code, known=self._known(c for _, c in self.items.values())
                )
            )
        return found[0]

    def agent(self, username: str | None, what: str) -> int | None:
        if username is None:
            return None
        found = self.agents_exact.get(username.strip())
        if found is None:
            found = self.agents.get(username.strip().lower())
        if found is None:
            raise InvalidInput(
                _(
                    "{what} {name!r} is not an agent of this desk; add the agent in the "
                    "desk file or leave the field empty"
                ).format(what=what, name=username)
            )
        return found

    def author(self, name: str | None) -> tuple[int | None, str | None]:
        """An agent when the name is exactly a username; otherwise kept as a name."""
        if name is None:
            return None, None
        found = self.agents_exact.get(name)
        return (found, None) if found is not None else (None, name)

    def _numbered(
        self,
        cache: dict[str, int | None],
        model: type[Change] | type[KnowledgeArticle],
        number: str,
    ) -> int | None:
        key = number.strip().upper()
        if key not in cache:
            cache[key] = self.session.scalar(select(model.id).where(model.number == key))
        return cache[key]

    def change(self, number: str | None) -> int | None:
        if number is None:
            return None
        found = self._numbered(self.changes, Change, number)
        if found is None:
            raise InvalidInput(_("no change {number} on this desk").format(number=number))
        return found

    def article(self, number: str | None) -> int | None:
        if number is None:
            return None
        found = self._numbered(self.articles, KnowledgeArticle, number)
        if found is None:
            raise InvalidInput(
                _("no knowledge article {number} on this desk").format(number=number)
            )
        return found
