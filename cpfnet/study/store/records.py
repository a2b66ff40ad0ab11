"""What the votes database hands out: a rater, a rater's progress, a refused vote; how tokens are kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cpfnet.study.sequence import Assignment


class VoteRefused(Exception):
    """A vote the rules do not allow; `status` is the HTTP status the app answers with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Rater:
    id: str
    code: str
    created_at: float


@dataclass(frozen=True)
class Progress:
    """A rater's sequence and how far they are: `votes[p]` is the choice at position p, None when open."""

    sequence: list[Assignment]
    votes: list[str | None]

    @property
    def position(self) -> int:
        """The next position to vote on (== len(sequence) when done)."""
        return sum(v is not None for v in self.votes)

    @property
    def done(self) -> bool:
        return self.position >= len(self.sequence)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
