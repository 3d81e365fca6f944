"""Row-level scope: which memories exist for a caller, beyond the tenant.

A :class:`RowScope` travels from the request context through the services
into every store and index call that reads memories by id, lists, counts,
traverses relations or searches. The adapters compile it into the query
(SQL ``WHERE``, Cypher ``WHERE``, Weaviate and FTS5 filters), so rows outside
the scope are never read, let alone returned. For a scoped caller a memory
outside the scope behaves exactly like one that does not exist.

- ``agent_id``: only that agent's memories exist (memories of other agents
  and memories without an agent do not), and of the agents only that one.
- ``user_id``: only memories about that user exist (memories of other users
  and memories without a user do not).

Both together mean both. Entities and facts are tenant-wide knowledge and are
not narrowed, but a relation one of whose ends lies outside the scope is left
out, and so is a fact's source memory outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.access.principal import Principal
from graph.errors import Forbidden, NotFound
from graph.model import Memory


@dataclass(frozen=True, slots=True)
class RowScope:
    agent_id: str | None = None
    user_id: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> RowScope:
        """The scope a principal's credentials carry."""
        if not principal.scoped:
            return UNSCOPED
        return cls(agent_id=principal.agent_id, user_id=principal.user_id)

    @property
    def unrestricted(self) -> bool:
        return self.agent_id is None and self.user_id is None

    def admits(self, memory: Memory) -> bool:
        """Whether ``memory`` exists for a caller with this scope (for
        in-memory streams such as subscriptions; stores compile the same test)."""
        if self.agent_id is not None and memory.agent_id != self.agent_id:
            return False
        return self.user_id is None or memory.user_id == self.user_id

    def admits_agent(self, agent_id: str) -> bool:
        return self.agent_id is None or agent_id == self.agent_id

    def agents(self, ids: list[str]) -> list[str]:
        """The agent ids of ``ids`` that exist for this scope, in order."""
        return [agent_id for agent_id in ids if self.admits_agent(agent_id)]

    def owner(self, agent_id: str | None, user_id: str | None) -> tuple[str | None, str | None]:
        """The (agent, user) of a memory written under this scope.

        Unset parts default to the scope's own. Another agent answers
        ``NOT_FOUND``, as it does not exist for this caller; another user
        answers ``FORBIDDEN`` (user ids are labels, not nodes, so refusing
        reveals nothing about what exists).
        """
        agent = self.agent_id if agent_id is None else agent_id
        user = self.user_id if user_id is None else user_id
        if self.agent_id is not None and agent != self.agent_id:
            raise NotFound(f"No agent with id {agent!r}.", id=agent)
        if self.user_id is not None and user != self.user_id:
            raise Forbidden("These credentials may only write memories of their own user.")
        return agent, user

    @property
    def key(self) -> str:
        """A cache-key part that separates results of different scopes."""
        if self.unrestricted:
            return "all"
        return f"a={self.agent_id or ''};u={self.user_id or ''}"


UNSCOPED = RowScope()
"""No row-level restriction beyond the tenant (admins, the server itself)."""
