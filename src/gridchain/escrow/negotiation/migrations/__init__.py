"""The message board's schema revisions (`negotiation_*` tables)."""
