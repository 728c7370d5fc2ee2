"""nilm."""
