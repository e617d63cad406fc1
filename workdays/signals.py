"""``calendar_year_published`` is sent after the transaction that publishes a revision commits
(kwargs: ``calendar_year``). The publication records connect to it to fill in 待定 deadlines and
recompute those that fall on changed dates."""

from django.dispatch import Signal

calendar_year_published = Signal()
