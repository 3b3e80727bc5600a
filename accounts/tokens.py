"""Activation links: Django's password-reset tokens, with their own salt and lifetime.

A token is bound to the account's password hash and last login, so it serves once: choosing a
password (or logging in) spends it. `state` tells a spent or forged link from an expired one,
so that the page can say which and offer a new link when it has only expired.
"""

from enum import Enum

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class TokenState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "accounts.tokens.ActivationTokenGenerator"

    def check_token(self, user, token) -> bool:
        return self.state(user, token) is TokenState.VALID

    def state(self, user, token) -> TokenState:
        if not (user and token):
            return TokenState.INVALID
        try:
            timestamp_b36, _hash = token.split("-")
            timestamp = base36_to_int(timestamp_b36)
        except ValueError:
            return TokenState.INVALID
        genuine = any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )
        if not genuine:
            return TokenState.INVALID
        age = self._num_seconds(self._now()) - timestamp
        if age > settings.ACCOUNT_ACTIVATION_DAYS * 24 * 3600:
            return TokenState.EXPIRED
        return TokenState.VALID


activation_tokens = ActivationTokenGenerator()
