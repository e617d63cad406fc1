"""Request context for audit events (source IP), set by AuditContextMiddleware.

Services take the actor explicitly; the source IP comes from here so that services need no
request object. Outside a request (commands, Celery tasks) it is empty.
"""

from contextvars import ContextVar

current_ip: ContextVar[str] = ContextVar("audit_current_ip", default="")
