"""The one gate every portal view goes through.

`@gate(predicate)` says who may enter a view; the predicates live in `accounts.scoping`. The rule,
the same everywhere (README, "Access"):

- anonymous visitors are sent to the login page;
- a signed-in user whose role never has this section gets **403** ("Accès refusé": the page
  exists, it is not for this role);
- an object outside the user's scope (a CPTS, response, campaign or file in the URL or its
  parameters) gets **404**, from the scoping getters (`get_cpts_for_user`, `get_response_for_user`,
  …), so that a URL never tells whether something exists outside one's scope.

A user who signed in with their password but still owes the second factor (README, "Second
factor") is sent to the code page, or to enrolment if they must have one and have none, before
any gated page; only the pages of that step itself are gated with `before_second_factor=True`.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts import scoping, selectors
from accounts.models import User

View = Callable[..., HttpResponse]


def second_factor_redirect(request: HttpRequest) -> HttpResponse | None:
    """Where a signed-in user who still owes the second factor must go first; None if nowhere."""
    user = request.user
    if user.is_verified() or not scoping.can_use_second_factor(user):
        return None
    if selectors.has_second_factor(user):
        step = "accounts:second_factor_verify"
    elif scoping.must_use_second_factor(user):
        step = "accounts:second_factor_enrol"
    else:
        return None
    return redirect_to_login(request.get_full_path(), login_url=reverse(step))


def gate(
    allowed: Callable[[User], bool] = scoping.is_active_user, *, before_second_factor: bool = False
) -> Callable[[View], View]:
    """Let in signed-in users for whom `allowed(user)` holds (default: any active account),
    once they have given the second factor they owe (unless `before_second_factor`)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not before_second_factor and (pending := second_factor_redirect(request)):
                return pending
            if not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.gate = allowed  # read by tests/test_url_walk.py: no view without a gate
        return wrapped

    return decorator
