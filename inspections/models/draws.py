"""Draws of enterprises and inspector teams (抽取)."""
