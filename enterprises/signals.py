"""Signals of the enterprise register.

``register_changed``: sent inside the changing transaction when existing enterprises' register
data may have changed (an edit, an import that updated rows), with ``enterprise_ids`` (keyword:
ids, or None for "any"). The oversight app listens and copies the current township into its
precomputed report figures in the same transaction.
"""

from django.dispatch import Signal

register_changed = Signal()  # kwargs: enterprise_ids
