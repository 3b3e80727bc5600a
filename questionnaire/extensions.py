"""Extension points for the apps built on the questionnaire: they register, it never imports them.

`first_screen`: when a team starts or continues a response, a registered function may send it to
a screen of its own first (the improvement app asks where the previous action plan stands).
"""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import User
from questionnaire.models import Response

FirstScreen = Callable[[User, Response], str | None]
_first_screens: list[FirstScreen] = []


def register_first_screen(screen: FirstScreen) -> None:
    if screen not in _first_screens:
        _first_screens.append(screen)


def first_screen(user: User, response: Response) -> str | None:
    """The URL of the first registered screen that has something to ask, if any."""
    for screen in _first_screens:
        if url := screen(user, response):
            return url
    return None
