"""Changing what moto answers: the sandbox's one way of patching moto's response classes.

moto dispatches each API call to the method of its response class named after the call,
so the sandbox changes a call by replacing that method while it runs, and puts moto's
back when it stops. The replacements change only calls in the sandbox's own account and
region (the one registry and cluster it stands for); any other call keeps moto's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: A replaced call: takes moto's response object (the request), returns moto's result.
Handler = Callable[[Any], Any]


class Patch:
    """Some calls of one moto response class: moto's own handlers, and the undo."""

    def __init__(self, response_class: type, names: Iterable[str]) -> None:
        self.response_class = response_class
        #: moto's handlers, by call name, for the replacements that fall back on them
        self.originals: dict[str, Handler] = {name: getattr(response_class, name) for name in names}

    def install(self, handlers: Mapping[str, Handler]) -> Callable[[], None]:
        """Put `handlers` in place of moto's; returns the undo."""
        unknown = set(handlers) - set(self.originals)
        if unknown:
            raise ValueError(f"no original kept for {', '.join(sorted(unknown))}")
        for name, handler in handlers.items():
            setattr(self.response_class, name, handler)
        return self.undo

    def undo(self) -> None:
        for name, original in self.originals.items():
            setattr(self.response_class, name, original)


def ours(response: Any, account: str, region: str) -> bool:
    """Is this call made in the sandbox's own account and region?"""
    return bool((response.current_account, response.region) == (account, region))


def error_type() -> type[Exception]:
    """An API error with the code and message it is raised with (`Error(code, message)`)."""
    from moto.core.exceptions import ServiceException

    class SandboxError(ServiceException):
        # Declared outside moto on purpose: moto looks an error up in the called
        # service's model and in that of the service its module is named after;
        # a module outside moto names none, so the called service's model decides.
        pass

    return SandboxError
