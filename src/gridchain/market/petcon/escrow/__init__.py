"""PETCON's escrow and settlement (contracts/petcon_escrow.vy): a hotspot's PHEVs escrow coins per auction, and
the committee-attested result is settled on the charging poles' signed, anchored meter readings.

Sub-feature of market.petcon, with the feature order inside (gas > client > model); the model uses petcon's result
module (the digest), the gas section the coin, metering and committee features through their package roots.
"""
