"""The relayer's schema revisions (`relayer_*` tables)."""
