"""parties."""
