"""Trade notes: fixed-denomination deposit notes blind-signed by the issuer and redeemed by a relayer to fresh
one-time addresses, so that a trade's fresh address is funded without linking it to its funder
(contracts/trade_notes.vy).

Inside the escrow feature: parties > client > model; the model is pure (kernel and crypto only).
"""
