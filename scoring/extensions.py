"""Extension points for the apps built on scoring: they register, scoring never imports them.

`results_panels`: sections a registered function adds to a results page (HTML it rendered from
its own template), e.g. the improvement app's links to the pistes and the plan's follow-up.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from questionnaire.models import Response
from scoring.models import ScoringGrid

ResultsPanel = Callable[[HttpRequest, Response, ScoringGrid], SafeString | None]
_results_panels: list[ResultsPanel] = []


def register_results_panel(panel: ResultsPanel) -> None:
    if panel not in _results_panels:
        _results_panels.append(panel)


def results_panels(request: HttpRequest, response: Response, grid: ScoringGrid) -> list[SafeString]:
    return [html for panel in _results_panels if (html := panel(request, response, grid))]
