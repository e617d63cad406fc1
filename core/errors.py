"""The one way a view shows a service's refusal: each message on the next page."""

from django.contrib import messages
from django.http import HttpRequest


def error_messages(request: HttpRequest, exc: Exception) -> None:
    """Each message of a ``ValidationError`` (or the text of another refusal, such as a
    ``PermissionDenied``) as an error message for the next page."""
    for message in getattr(exc, "messages", [str(exc)]):
        messages.error(request, message)
