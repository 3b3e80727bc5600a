"""Log in with an e-mail address (whatever its case) or a username."""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from accounts.models import User

# The backend's dotted path, as settings.AUTHENTICATION_BACKENDS names it: what a session made
# outside `authenticate()` (a link that signs in, the bench's sessions) records.
BACKEND_PATH = "accounts.backends.EmailOrUsernameBackend"


class EmailOrUsernameBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        login = (username or kwargs.get(User.USERNAME_FIELD) or "").strip()
        if not login or password is None:
            return None
        matches = Q(username=login) | Q(email__iexact=login) if "@" in login else Q(username=login)
        # A username spelled exactly wins over another account's address.
        candidates = sorted(User.objects.filter(matches), key=lambda u: u.username != login)
        if not candidates:
            User().set_password(password)  # same work, same time, as for a known account
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request, credentials) -> str:
    """What axes counts failures against: the typed login, so that `Sophie@X.org` and
    `sophie@x.org` share one counter."""
    login = (credentials or {}).get("username") or request.POST.get("username", "")
    return login.strip().lower() if "@" in login else login.strip()
