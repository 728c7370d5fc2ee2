"""Metering: what the smart meter computes from its own readings (load disaggregation of EV charging)."""
