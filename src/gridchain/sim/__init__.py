"""Scenarios and experiments (the papers' figures), built from core (and, later, the actors)."""
