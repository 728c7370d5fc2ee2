"""The monitoring feature's executable specification: the contracts' twins and the records they hold; pure (the
kernel, crypto and pure libraries only)."""
