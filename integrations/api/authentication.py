"""Who is calling: a script with ``Authorization: Bearer <token>``, or a signed-in browser session.

A token acts as its user. An unknown, revoked or expired token, or one whose user is inactive, is
refused with a 401 rather than treated as anonymous, so a script learns its token stopped working.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from integrations.api.models import ApiToken

KEYWORD = "Bearer"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() != KEYWORD.lower():
            return None  # not ours: the session may still know the caller
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give the token as 'Authorization: Bearer <token>'.")
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = ApiToken.find(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is unknown, revoked or expired.")
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        token.mark_used()
        return user, token

    def authenticate_header(self, request):
        return KEYWORD


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API token issued in the admin."}
