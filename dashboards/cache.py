"""The overview's charts, kept in Django's cache from one request to the next.

Aggregating the scores and building the Plotly figures was a third of the overview's time
(profiled), for charts that change only when the data does. A cached entry is keyed by exactly
what the charts are drawn from:

- the CPTS asked for, as the SQL of the filtered queryset's ids: the user's scope (ARS region,
  CPAM department, national) and the filters are in it, so two users see the same entry only
  when they would see the same CPTS;
- the campaigns, grids, dimensions and followed CPTS the page read anyway, and the language;
- `selectors.territory_version()`, a fingerprint of the scores, responses and CPTS edits.

Scoring does not know the dashboards (apps depend one way): a score written, rewritten or
deleted, however it is written, changes the fingerprint, so the next request misses and
recomputes. The small-cell rule is applied before caching: an entry holds what the page draws.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.translation import get_language

from dashboards import charts, selectors
from questionnaire.models import Campaign, Dimension
from scoring.models import ScoringGrid
from territories.models import Cpts

# The fingerprint does not see an edited department or region name: they show after this long.
CACHE_SECONDS = 600


def overview_charts(
    *,
    cpts: QuerySet[Cpts],
    campaign: Campaign,
    campaigns: list[Campaign],
    grids: dict[int, ScoringGrid],
    dimensions: list[Dimension],
    followed: list[Cpts],
) -> list[charts.Chart]:
    """`charts.overview_charts` of `selectors.territory_aggregates`, from the cache when the
    same CPTS were asked for since the data last changed."""
    # The aggregates read `cpts.values("pk")` only: its SQL names exactly the CPTS they cover,
    # and costs less to compile than the annotated queryset's.
    sql, params = cpts.values("pk").query.sql_with_params()
    identity = (
        get_language(),
        sql,
        params,
        campaign.pk,
        [(c.pk, c.name, c.year, c.opens_on, c.questionnaire_id) for c in campaigns],
        sorted((version, grid.pk) for version, grid in grids.items()),
        [(d.pk, d.label) for d in dimensions],
        [c.pk for c in followed],
        selectors.territory_version(),
    )
    key = "dashboards:overview:" + hashlib.sha256(repr(identity).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        aggregates = selectors.territory_aggregates(
            cpts=cpts,
            campaign=campaign,
            campaigns=campaigns,
            grids=grids,
            dimensions=dimensions,
            followed=followed,
        )
        found = charts.overview_charts(aggregates)
        cache.set(key, found, CACHE_SECONDS)
    return found
