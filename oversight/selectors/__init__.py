"""Reads of the oversight app that are neither fairness statistics (``oversight.fairness``) nor
report figures (``oversight.reports``): ``review`` — the discipline group's audit views."""
