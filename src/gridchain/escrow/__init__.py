"""Trustless trade settlement (PriWatt): escrowed trades, payment channels and anonymous negotiation."""
