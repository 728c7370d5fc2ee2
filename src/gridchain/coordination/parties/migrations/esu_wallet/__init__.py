"""Revisions of an ESU wallet's database (`coordination.parties.wallet_tables`)."""
