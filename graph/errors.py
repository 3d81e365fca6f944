"""Domain errors. Each carries the stable code that clients see.

Transports map these to their own shape (GraphQL ``extensions.code``, HTTP
status); any other exception is an internal error whose message never leaves
the server.
"""

from __future__ import annotations


class DomainError(Exception):
    """A failure the caller can understand and act on."""

    code = "INTERNAL"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadInput(DomainError):
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class Unavailable(DomainError):
    code = "UNAVAILABLE"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class RateLimited(DomainError):
    code = "RATE_LIMITED"
