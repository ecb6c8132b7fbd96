"""The registry of screens: a plain dict built at import, and one shared instance per rule.

    @register
    class Shout(InputScreen):
        rule = "shout"
        version = "1"
        def score_input(self, messages):
            return ScreenResult(self.rule, 1.0 if "!!!" in str(messages) else 0.0)
"""

from __future__ import annotations

import functools

from safehub.guard.screens.base import Screen

SCREENS: dict[str, type[Screen]] = {}


def register(screen_class: type[Screen]) -> type[Screen]:
    SCREENS[screen_class.rule] = screen_class
    return screen_class


@functools.lru_cache(maxsize=None)
def load_screen(name: str) -> Screen:
    """The shared instance of the screen registered as `name` (its model is loaded on first use)."""
    if name not in SCREENS:
        known = ", ".join(sorted(SCREENS)) or "none"
        raise KeyError(f"unknown screen {name!r}; the guard's screens are: {known}")
    return SCREENS[name]()
