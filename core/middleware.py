from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation


class ContentSecurityPolicyMiddleware:
    """A strict CSP: scripts and styles only from our own static files, no inline script."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response


class ChineseFirstLocaleMiddleware:
    """Chinese unless the user chose English with the language switch (cookie).

    Django's LocaleMiddleware follows the browser's Accept-Language, which on English-locale
    office PCs would show English to staff who never asked for it (docs/decisions.md).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        available = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class AllowedMethodsMiddleware:
    """The application answers GET, HEAD and POST only. TRACE echoes the request (headers and
    cookies included) and nothing here uses PUT, DELETE or OPTIONS, so they are refused before
    any view runs, also when gunicorn is reached without nginx in front."""

    ALLOWED = ("GET", "HEAD", "POST")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in self.ALLOWED:
            from django.http import HttpResponseNotAllowed

            return HttpResponseNotAllowed(self.ALLOWED)
        return self.get_response(request)


class NoStoreForUsersMiddleware:
    """Pages of a logged-in user hold personal data: neither the browser nor a proxy may keep a
    copy once the user has logged out (等保 剩余信息保护). Public pages keep their own headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        was_authenticated = bool(user is not None and user.is_authenticated)
        response = self.get_response(request)
        user = getattr(request, "user", None)  # login and logout replace it
        if was_authenticated or (user is not None and user.is_authenticated):
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response
