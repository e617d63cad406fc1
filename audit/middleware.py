import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from .context import current_ip


def client_ip(request: HttpRequest) -> str:
    """The client's address. REMOTE_ADDR, unless it is one of ``TRUSTED_PROXY_IPS`` (nginx in
    front of gunicorn): then the last X-Forwarded-For entry, the one that proxy wrote. From
    anyone else the header is ignored, since the client writes it."""
    remote: str = request.META.get("REMOTE_ADDR", "")
    if remote in settings.TRUSTED_PROXY_IPS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return remote


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
