"""Deterministic, varied English memories and search queries for the benchmark.

Everything comes from a seeded ``random.Random``: the same seed gives the same
corpus on every machine, so runs are comparable. Sentences are templates filled
from small vocabularies, one family of templates per memory type, so the
keyword index sees a realistic spread of words and the vectors a realistic
spread of meanings. Every memory's content is unique after the server's
normalisation (the server would otherwise return the existing memory instead
of storing a duplicate).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

PEOPLE = (
    "The user",
    "Maria",
    "Our finance team",
    "The on-call engineer",
    "My sister",
    "The new intern",
    "The customer in Berlin",
    "The support agent",
    "The product manager",
    "Dr. Okafor",
    "The landlord",
    "Tom from accounting",
    "The design lead",
    "Grandma",
    "The hiring committee",
    "Our biggest client",
    "The security auditor",
    "Priya",
)
PAST_VERBS = (
    "asked about",
    "forgot",
    "scheduled",
    "cancelled",
    "reviewed",
    "mentioned",
    "complained about",
    "approved",
    "postponed",
    "double-checked",
    "was excited about",
    "sent feedback on",
)
TOPICS: tuple[tuple[str, str], ...] = (
    ("dark roast coffee in the morning", "food"),
    ("the quarterly budget review", "finance"),
    ("a weekend trip to the mountains", "travel"),
    ("the database migration plan", "engineering"),
    ("vegetarian options for the team dinner", "food"),
    ("the flaky integration tests", "engineering"),
    ("a refund for the duplicate invoice", "finance"),
    ("the blue-green deployment of the billing service", "engineering"),
    ("the dentist appointment", "health"),
    ("the lease renewal for the apartment", "home"),
    ("the onboarding checklist for new hires", "people"),
    ("the marketing launch in Spain", "marketing"),
    ("a birthday present for her nephew", "family"),
    ("the late delivery of office chairs", "operations"),
    ("the penetration test report", "security"),
    ("the flight to Tokyo next spring", "travel"),
    ("the running plan for the half marathon", "health"),
    ("the password manager rollout", "security"),
    ("the annual performance reviews", "people"),
    ("the broken heating in the kitchen", "home"),
    ("the customer churn dashboard", "analytics"),
    ("the tax return paperwork", "finance"),
    ("the piano lessons on Thursdays", "family"),
    ("the rate limits on the public API", "engineering"),
)
WHEN = (
    "yesterday",
    "on Monday",
    "after the standup",
    "last week",
    "this morning",
    "during lunch",
    "late on Friday",
    "before the holidays",
    "two days ago",
    "at the end of the sprint",
)
TAILS = (
    "",
    " because the previous attempt failed",
    " and wants a reminder next week",
    " while travelling for work",
    " so the release may slip by a few days",
    " according to the notes from the call",
    " without telling anyone else on the team",
    " and asked for a short written summary",
    " which took longer than expected",
    " and seemed relieved afterwards",
)
PREFERENCES = (
    ("oat milk instead of regular milk", "food"),
    ("window seats on long flights", "travel"),
    ("short meetings with a written agenda", "work"),
    ("email over phone calls", "communication"),
    ("dark mode in every application", "software"),
    ("tea in the afternoon", "food"),
    ("aisle seats on trains", "travel"),
    ("weekly status reports on Fridays", "work"),
    ("Python for data analysis", "software"),
    ("quiet hotels away from the city centre", "travel"),
    ("metric units in all reports", "work"),
    ("asynchronous updates in the team chat", "communication"),
    ("spicy food", "food"),
    ("paper notebooks for brainstorming", "work"),
)
REASONS = (
    "",
    " because it saves time",
    " after a bad experience",
    " as noted in the last review",
    " according to the profile notes",
    " unless a deadline is close",
)
CONTEXTS = (
    "at work",
    "when travelling",
    "on weekends",
    "when under time pressure",
    "for client projects",
    "in the winter",
    "most of the time",
    "since last year",
)
TASKS: tuple[tuple[str, str], ...] = (
    ("deploy the billing service", "engineering"),
    ("reset a customer's password", "support"),
    ("file an expense report", "finance"),
    ("rotate the API keys", "security"),
    ("restore the nightly database backup", "engineering"),
    ("book a meeting room", "operations"),
    ("onboard a new contractor", "people"),
    ("renew the TLS certificates", "security"),
    ("close the books at month end", "finance"),
    ("escalate a priority incident", "support"),
    ("publish the weekly newsletter", "marketing"),
    ("order replacement laptops", "operations"),
)
STEP_SUFFIXES = (
    "",
    " before telling the requester",
    " and record who did it",
    " as the runbook says",
    " unless it is a weekend",
)
STEPS = (
    "open a ticket in the tracker",
    "ask for approval in the team channel",
    "run the checklist in the wiki",
    "double-check the staging environment",
    "notify the account owner",
    "take a snapshot first",
    "update the shared spreadsheet",
    "wait for the green build",
    "log the change in the audit trail",
    "confirm with a second reviewer",
)
SYSTEMS = (
    "staging cluster",
    "payroll system",
    "customer database",
    "shared calendar",
    "VPN gateway",
    "analytics warehouse",
    "mail server",
    "build pipeline",
    "support inbox",
    "office alarm",
)
FACTS = (
    "is maintained by the platform team",
    "is backed up every {n} hours",
    "keeps its logs for {n} days",
    "moved to a new region in {month}",
    "has a maintenance window on Sundays",
    "allows at most {n} concurrent sessions",
    "was upgraded to version {n}",
    "is owned by the operations group",
)
MONTHS = ("January", "March", "May", "July", "September", "November")
DOCUMENTS = (
    "runbook",
    "design document",
    "meeting notes",
    "contract",
    "price list",
    "style guide",
    "slide deck",
    "spreadsheet",
    "recipe",
    "warranty",
)
PLACES = (
    "the shared drive under Projects",
    "the team wiki",
    "the pinned message in the channel",
    "the finance folder",
    "the bookmarks bar",
    "the email from last Tuesday",
    "the red binder in the office",
    "the CRM record",
)
EXTRA_TAGS = ("urgent", "follow-up", "personal", "recurring", "idea", "decision", "risk", "todo")

MEMORY_TYPES = ("EPISODIC", "SEMANTIC", "PROCEDURAL", "KNOWLEDGE_VAULT", "RESOURCE")
TYPE_WEIGHTS = (45, 20, 12, 13, 10)
LEVELS = ("STRATEGIC", "TACTICAL", "OPERATIONAL", "CONTEXTUAL")
LEVEL_WEIGHTS = (10, 25, 45, 20)


@dataclass(frozen=True, slots=True)
class MemorySpec:
    """One memory to ingest, with the index of the agent it belongs to."""

    agent: int
    content: str
    type: str
    level: str
    tags: tuple[str, ...]
    importance: float
    user_id: str
    session_id: str

    def as_input(self, agent_id: str) -> dict[str, Any]:
        """The ``AddMemoryInput`` GraphQL variable value for this memory."""
        return {
            "agentId": agent_id,
            "content": self.content,
            "type": self.type,
            "level": self.level,
            "tags": list(self.tags),
            "importance": self.importance,
            "userId": self.user_id,
            "sessionId": self.session_id,
        }


@dataclass
class _Uniques:
    """Remembers normalised sentences so that none repeats."""

    seen: set[str] = field(default_factory=set)

    def add(self, text: str) -> bool:
        key = normalise(text)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def _mid(person: str) -> str:
    """A subject phrase as it reads inside a sentence ("The user" -> "the user")."""
    first, _, rest = person.partition(" ")
    return f"{first.lower()} {rest}" if first in ("The", "My", "Our") else person


def normalise(text: str) -> str:
    """Case- and punctuation-insensitive form, stricter than the server's."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _sentence(rng: random.Random, memory_type: str) -> tuple[str, str]:
    """One sentence of ``memory_type`` and the topical tag it is about."""
    if memory_type == "EPISODIC":
        topic, tag = rng.choice(TOPICS)
        text = (
            f"{rng.choice(PEOPLE)} {rng.choice(PAST_VERBS)} {topic} "
            f"{rng.choice(WHEN)}{rng.choice(TAILS)}."
        )
        return text, tag
    if memory_type == "SEMANTIC":
        preference, tag = rng.choice(PREFERENCES)
        person = rng.choice(PEOPLE)
        verb = "prefer" if person in ("Our finance team", "The hiring committee") else "prefers"
        text = f"{person} {verb} {preference} {rng.choice(CONTEXTS)}{rng.choice(REASONS)}."
        return text, tag
    if memory_type == "PROCEDURAL":
        task, tag = rng.choice(TASKS)
        first, second = rng.sample(STEPS, 2)
        return f"To {task}, {first}, then {second}{rng.choice(STEP_SUFFIXES)}.", tag
    if memory_type == "KNOWLEDGE_VAULT":
        fact = rng.choice(FACTS).format(n=rng.randint(2, 90), month=rng.choice(MONTHS))
        return f"The {rng.choice(SYSTEMS)} {fact}.", "infrastructure"
    topic, tag = rng.choice(TOPICS)
    return (
        f"The {rng.choice(DOCUMENTS)} about {topic} is in {rng.choice(PLACES)}.",
        tag,
    )


def memories(count: int, agents: int, seed: int = 20240601) -> list[MemorySpec]:
    """``count`` unique memories spread round-robin-ish over ``agents`` agents.

    Raises ``ValueError`` if the vocabularies cannot make that many distinct
    sentences (far beyond 100,000).
    """
    rng = random.Random(seed)
    uniques = _Uniques()
    out: list[MemorySpec] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > count * 50 + 1000:
            raise ValueError(f"cannot make {count} distinct sentences from the vocabularies")
        memory_type = rng.choices(MEMORY_TYPES, TYPE_WEIGHTS)[0]
        text, topic_tag = _sentence(rng, memory_type)
        if not uniques.add(text):
            continue
        agent = rng.randrange(agents)
        extra = rng.sample(EXTRA_TAGS, rng.choice((0, 0, 1, 1, 2)))
        out.append(
            MemorySpec(
                agent=agent,
                content=text,
                type=memory_type,
                level=rng.choices(LEVELS, LEVEL_WEIGHTS)[0],
                tags=(topic_tag, *extra),
                importance=round(rng.betavariate(2, 3), 2),
                user_id=f"user-{rng.randrange(50)}",
                session_id=f"session-{agent}-{len(out) // 40}",
            )
        )
    return out


QUESTION_FORMS = (
    "What did {person} say about {topic}?",
    "When was {topic} last discussed?",
    "Anything about {topic} {when}?",
    "who {verb} {topic}",
    "{topic} {context}",
    "Does {person} have a preference for {preference}?",
    "what does {person} like {context}",
    "How do I {task}?",
    "steps to {task} safely",
    "Where can I find the {document} about {topic}?",
    "Which system {fact}?",
    "notes on the {system}",
)


def queries(count: int, seed: int = 99) -> list[str]:
    """``count`` distinct natural-language search queries."""
    rng = random.Random(seed)
    uniques = _Uniques()
    out: list[str] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > count * 50 + 1000:
            raise ValueError(f"cannot make {count} distinct queries from the vocabularies")
        form = rng.choice(QUESTION_FORMS)
        text = form.format(
            person=_mid(rng.choice(PEOPLE)),
            topic=rng.choice(TOPICS)[0],
            when=rng.choice(WHEN),
            verb=rng.choice(PAST_VERBS),
            context=rng.choice(CONTEXTS),
            preference=rng.choice(PREFERENCES)[0],
            task=rng.choice(TASKS)[0],
            document=rng.choice(DOCUMENTS),
            fact=rng.choice(FACTS).format(n=rng.randint(2, 90), month=rng.choice(MONTHS)),
            system=rng.choice(SYSTEMS),
        )
        if form[0].islower():
            text = text[0].lower() + text[1:]
        if uniques.add(text):
            out.append(text)
    return out
