from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import gate
from accounts.scoping import campaigns_visible_to, can_manage_campaigns, can_view_dashboards
from campaigns import selectors, services
from campaigns.forms import (
    CampaignForm,
    ParticipantImportForm,
    ParticipantRuleForm,
    ReminderRuleForm,
)
from campaigns.models import DigestSubscription
from cpts_portal.spreadsheet import csv_lines
from questionnaire.models import Campaign

TRANSITIONS = {
    "ouvrir": (services.campaign_open, "La campagne est ouverte."),
    "cloturer": (services.campaign_close, "La campagne est close."),
    "archiver": (services.campaign_archive, "La campagne est archivée."),
}
FUNNEL_GROUPS = (
    ("region", "Par région"),
    ("department", "Par département"),
    ("stage", "Par stade"),
)


def _campaign(request: HttpRequest, slug: str) -> Campaign:
    return get_object_or_404(campaigns_visible_to(request.user), slug=slug)


@gate(can_manage_campaigns)
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/list.html", {"campaigns": selectors.campaigns_for_console()})


@gate(can_manage_campaigns)
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = services.campaign_create(**form.cleaned_data)
        messages.success(request, "Campagne créée en brouillon.")
        return redirect("campaigns:detail", slug=campaign.slug)
    return render(request, "campaigns/form.html", {"form": form, "campaign": None})


@gate(can_manage_campaigns)
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(request, slug)
    if campaign.status != Campaign.Status.DRAFT:
        messages.error(request, "Seule une campagne en brouillon peut être modifiée.")
        return redirect("campaigns:detail", slug=slug)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        campaign = services.campaign_update(campaign=campaign, **form.cleaned_data)
        messages.success(request, "Campagne enregistrée.")
        return redirect("campaigns:detail", slug=campaign.slug)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


@gate(can_manage_campaigns)
@require_GET
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_detail(request, _campaign(request, slug))


def _render_detail(request: HttpRequest, campaign: Campaign, **context) -> HttpResponse:
    status = context.pop("status", 200)
    context = {
        "campaign": campaign,
        "states": selectors.participant_states(campaign, request.user),
        "rule_form": ParticipantRuleForm(),
        "import_form": ParticipantImportForm(),
        "rules": campaign.reminder_rules.all(),
        "reminder_form": ReminderRuleForm(),
        **context,
    }
    return render(request, "campaigns/detail.html", context, status=status)


@gate(can_manage_campaigns)
@require_POST
def campaign_transition(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    campaign = _campaign(request, slug)
    if action not in TRANSITIONS:
        raise Http404
    change, done = TRANSITIONS[action]
    try:
        change(campaign=campaign)
    except services.CampaignError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("campaigns:detail", slug=slug)


@gate(can_manage_campaigns)
@require_POST
def participants_add(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(request, slug)
    form = ParticipantRuleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choix de stades ou de régions invalide.")
        return redirect("campaigns:detail", slug=slug)
    try:
        added = services.participants_add(
            campaign=campaign,
            stages=form.cleaned_data["stages"],
            region_ids=[r.pk for r in form.cleaned_data["regions"]],
        )
    except services.CampaignError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{added} CPTS ajoutée(s) aux participants.")
    return redirect("campaigns:detail", slug=slug)


@gate(can_manage_campaigns)
@require_POST
def participants_import(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(request, slug)
    form = ParticipantImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        report = services.participants_import(
            campaign=campaign, text=form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"]
        )
        if report.ok:
            prefix = "Vérification : " if form.cleaned_data["dry_run"] else ""
            messages.success(
                request,
                f"{prefix}{report.participants_added} participant(s) et "
                f"{report.contacts_added} contact(s) ajouté(s).",
            )
            return redirect("campaigns:detail", slug=slug)
    return _render_detail(request, campaign, import_form=form, import_report=report, status=400)


@gate(can_manage_campaigns)
@require_POST
def participant_exclusion(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = _campaign(request, slug)
    participant = get_object_or_404(campaign.participants, pk=pk)
    try:
        if "reintegrer" in request.POST:
            services.participant_include(participant=participant)
            messages.success(request, f"{participant.cpts} est de nouveau participante.")
        else:
            services.participant_exclude(
                participant=participant, reason=request.POST.get("reason", "")
            )
            messages.success(request, f"{participant.cpts} est exclue des participants.")
    except services.CampaignError as error:
        messages.error(request, str(error))
    return redirect("campaigns:detail", slug=slug)


@gate(can_view_dashboards)
@require_GET
def tracking(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(request, slug)
    states = selectors.participant_states(campaign, request.user)
    return render(
        request,
        "campaigns/tracking.html",
        {
            "campaign": campaign,
            "states": states,
            "stages": selectors.STAGES,
            "groups": [(by, label, selectors.funnel(states, by)) for by, label in FUNNEL_GROUPS],
            "can_manage": can_manage_campaigns(request.user),
        },
    )


@gate(can_view_dashboards)
@require_GET
def tracking_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The participants in the user's scope with their state, or with `?par=region|department|
    stage` the funnel of that grouping, for a spreadsheet."""
    campaign = _campaign(request, slug)
    states = selectors.participant_states(campaign, request.user)
    grouping = request.GET.get("par", "")
    if grouping:
        if grouping not in dict(FUNNEL_GROUPS):
            raise Http404
        header = [grouping, *(stage for stage, _label in selectors.STAGES)]
        rows = [[row.label, *row.cells] for row in selectors.funnel(states, grouping)]
        filename = f"suivi-{campaign.slug}-{grouping}.csv"
    else:
        header = ["cpts_code", "cpts_name", "department", "region", "stage", "state"]
        header += ["invited_at", "last_reminder_at", "excluded_reason"]
        rows = [_participant_row(state) for state in states]
        filename = f"suivi-{campaign.slug}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response.writelines(csv_lines([header, *rows]))
    return response


def _participant_row(state: selectors.ParticipantState) -> list:
    participant, cpts = state.participant, state.participant.cpts
    return [
        cpts.code,
        cpts.name,
        cpts.department.code,
        cpts.department.region.code,
        cpts.stage,
        state.state,
        participant.invited_at.isoformat() if participant.invited_at else "",
        state.last_reminder.isoformat() if state.last_reminder else "",
        participant.excluded_reason,
    ]


@gate(can_manage_campaigns)
@require_POST
def invitations_send(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(request, slug)
    try:
        sent = services.invitations_send(campaign=campaign)
    except services.CampaignError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{len(sent)} invitation(s) envoyée(s).")
    return redirect("campaigns:detail", slug=slug)


@gate(can_manage_campaigns)
@require_POST
def reminder_add(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(request, slug)
    form = ReminderRuleForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, campaign, reminder_form=form, status=400)
    form.instance.campaign = campaign
    form.save()
    messages.success(request, "Règle de relance ajoutée.")
    return redirect("campaigns:detail", slug=slug)


@gate(can_manage_campaigns)
@require_POST
def reminder_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = _campaign(request, slug)
    rule = get_object_or_404(campaign.reminder_rules, pk=pk)
    if rule.messages.exists():
        messages.error(request, "Cette règle a déjà envoyé des relances : elle est conservée.")
    else:
        rule.delete()
        messages.success(request, "Règle de relance supprimée.")
    return redirect("campaigns:detail", slug=slug)


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Public (the link is in every reminder): GET asks, POST records. Mail scanners follow
    links with GET, so a GET alone never unsubscribes anybody."""
    found = services.read_unsubscribe_token(token)
    if found is None:
        return render(request, "campaigns/unsubscribe.html", {"invalid": True}, status=400)
    campaign, email = found
    done = request.method == "POST"
    if done:
        services.unsubscribe(campaign=campaign, email=email)
    return render(
        request, "campaigns/unsubscribe.html", {"campaign": campaign, "email": email, "done": done}
    )


@gate(can_view_dashboards)
@require_http_methods(["GET", "POST"])
def digest(request: HttpRequest) -> HttpResponse:
    """Opt in or out of the Monday digest of the campaigns in one's scope."""
    if request.method == "POST":
        subscribed = request.POST.get("abonnement") == "1"
        services.digest_subscribe(user=request.user, subscribed=subscribed)
        messages.success(
            request,
            "Vous recevrez le résumé chaque lundi."
            if subscribed
            else "Vous ne recevrez plus le résumé hebdomadaire.",
        )
        return redirect("campaigns:digest")
    subscribed = DigestSubscription.objects.filter(user=request.user).exists()
    return render(request, "campaigns/digest.html", {"subscribed": subscribed})
