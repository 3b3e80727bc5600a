"""Celery tasks: thin wrappers that take ids, call the scoring services and retry on DB hiccups."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from questionnaire.models import Response
from scoring import selectors, services
from scoring.models import ScoringGrid

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3, default_retry_delay=5)
def score_response(self, response_id: int, grid_code: str | None = None) -> str:
    """Score one response (on submission) with the given grid, by default its campaign's grid
    (or, for a campaign without one, the latest)."""
    response = (
        Response.objects.select_related("campaign__questionnaire").filter(pk=response_id).first()
    )
    if response is None:
        logger.warning("score_response: response %s does not exist", response_id)
        return "missing"
    grid = selectors.grid_for(
        response.campaign.questionnaire, grid_code or response.campaign.grid_code
    )
    if grid is None:
        logger.warning("score_response: no scoring grid for %s", response.campaign.questionnaire)
        return "no_grid"
    try:
        return services.response_score(response=response, grid=grid).outcome
    except OperationalError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, max_retries=3, default_retry_delay=5)
def rescore_batch(self, response_ids: list[int], grid_code: str) -> dict[str, int]:
    """Score a batch of responses with one grid version; returns the count of each outcome."""
    grid = ScoringGrid.objects.select_related("questionnaire").get(code=grid_code)
    try:
        return services.responses_score(response_ids=response_ids, grid=grid)
    except OperationalError as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def reconcile_scores() -> dict[str, int]:
    """Beat, every RECONCILE_INTERVAL: score what a lost task left unscored (idempotent)."""
    return services.scores_reconcile()
