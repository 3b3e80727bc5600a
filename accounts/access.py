"""The one gate every portal view goes through.

`@gate(predicate)` says who may enter a view; the predicates live in `accounts.scoping`. The rule,
the same everywhere (README, "Access"):

- anonymous visitors are sent to the login page;
- a signed-in user whose role never has this section gets **403** ("Accès refusé": the page
  exists, it is not for this role);
- an object outside the user's scope (a CPTS, response, campaign or file in the URL or its
  parameters) gets **404**, from the scoping getters (`get_cpts_for_user`, `get_response_for_user`,
  …), so that a URL never tells whether something exists outside one's scope.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts import scoping
from accounts.models import User

View = Callable[..., HttpResponse]


def gate(allowed: Callable[[User], bool] = scoping.is_active_user) -> Callable[[View], View]:
    """Let in signed-in users for whom `allowed(user)` holds (default: any active account)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.gate = allowed  # read by tests/test_url_walk.py: no view without a gate
        return wrapped

    return decorator
