"""Revisions of the `issuer` schema (gridchain.coordination.anonymous.parties.issuer_store)."""
