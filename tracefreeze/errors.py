"""Errors the runtime reports to a Court user as one clear line, without a stack trace."""

from __future__ import annotations


class TracefreezeError(Exception):
    """A failure the user can act on: an unreachable server, a duplicate reference, ..."""
