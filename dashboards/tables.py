import django_tables2 as tables
from django.db.models import F
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from dashboards.forms import STATUS_CHOICES
from dashboards.selectors import dimension_field
from questionnaire.models import Dimension
from territories.models import Cpts


def score_cell(value) -> str:
    return number_format(value, 2)


class ScoreColumn(tables.Column):
    """A 0–100 score; CPTS without one sort last in both directions."""

    def __init__(self, **kwargs):
        super().__init__(attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}}, **kwargs)

    def render(self, value):
        return score_cell(value)

    def order(self, queryset, is_descending):
        expression = F(self.accessor)
        ordered = (
            expression.desc(nulls_last=True) if is_descending else expression.asc(nulls_last=True)
        )
        return queryset.order_by(ordered, "name"), True


class OverviewTable(tables.Table):
    name = tables.Column(
        verbose_name=_("CPTS"), linkify=("dashboards:cpts", {"pk": tables.A("pk")})
    )
    department = tables.Column(
        verbose_name=_("Département"), accessor="department__code", order_by="department__code"
    )
    stage = tables.Column(verbose_name=_("Stade"))
    response_status = tables.Column(verbose_name=_("Statut"))
    score_index = ScoreColumn(verbose_name=_("Indice global"))
    score_level = tables.Column(verbose_name=_("Niveau"))
    results = tables.Column(
        verbose_name=_("Détail"), accessor="response_id", orderable=False, empty_values=()
    )

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle", "id": "tableau-cpts"}
        order_by = ("name",)
        empty_text = _("Aucune CPTS ne correspond à ces critères.")
        sequence = (
            "name",
            "department",
            "stage",
            "response_status",
            "score_index",
            "score_level",
            "...",
            "results",
        )

    def __init__(self, *args, dimensions: list[Dimension], levels: dict[str, str], **kwargs):
        extra = [(dimension_field(d), ScoreColumn(verbose_name=d.label)) for d in dimensions]
        super().__init__(*args, extra_columns=extra, **kwargs)
        self.level_labels = levels
        self.score_fields = ["score_index", *(name for name, _column in extra)]
        # Translated once per table, not once per cell.
        self.stage_labels = {code: str(label) for code, label in Cpts.Stage.choices}
        self.status_labels = {code: str(label) for code, label in STATUS_CHOICES}
        self.results_label = str(_("Résultats"))

    def body(self) -> list[SafeString]:
        """The page's rows as HTML: the cells django-tables2's template draws, in one pass.

        Its generic path (accessors, per-cell attributes, a template lookup per cell) took more
        time than everything else on the overview (profiled); headers, sorting and pagination
        stay its own. Every column's attributes are static, so they are rendered once."""
        columns = [
            (column.name, format_html("<td {}>", column.attrs["td"].as_html()))
            for column in self.columns
        ]
        rows = []
        for row in self.page.object_list:
            cells = self._cells(row.record)
            # Every part is escaped here or already safe (attributes, cells built by format_html).
            tds = "".join(f"{td}{conditional_escape(cells[name])}</td>" for name, td in columns)
            rows.append(mark_safe(f"<tr {row.attrs.as_html()}>{tds}</tr>"))
        return rows

    def _cells(self, record) -> dict[str, str]:
        """What each column's `render` (or django-tables2's default) gives for the record."""
        cells = {
            "name": format_html(
                '<a href="{}">{}</a>', reverse("dashboards:cpts", args=[record.pk]), record.name
            ),
            "department": self.render_department(record),
            "stage": self.stage_labels.get(record.stage, record.stage),
            "response_status": self.render_response_status(record.response_status),
            "score_level": (
                self.render_score_level(record.score_level) if record.score_level else self.default
            ),
            "results": self.render_results(record),
        }
        for name in self.score_fields:
            value = getattr(record, name)
            cells[name] = self.default if value is None else score_cell(value)
        return cells

    def render_department(self, record):
        return f"{record.department.name} ({record.department.code})"

    def render_response_status(self, value):
        return self.status_labels.get(value, value)

    def render_score_level(self, value):
        return self.level_labels.get(value, value)

    def render_results(self, record):
        if record.score_index is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("scoring:results", args=[record.response_id]),
            self.results_label,
        )
