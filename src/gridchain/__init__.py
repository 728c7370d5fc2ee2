"""gridchain: blockchain-based coordination and settlement of EV and home-battery charging."""

__version__ = "0.1.0"
