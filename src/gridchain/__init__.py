"""gridchain: blockchain-based coordination and settlement of EV and home-battery charging.

Feature packages on shared adapters on a small kernel; pyproject.toml's import-linter contracts hold the import
rules and docs/architecture.md explains them. This root holds only the version and imports nothing.
"""

__version__ = "0.1.0"
