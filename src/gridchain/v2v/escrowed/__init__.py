"""The V2V reverse auction settled through the trade escrow (issue 20): sealed bids on the negotiation's message
board that are binding escrow offers; the lowest valid rate wins (Abou El Houda et al.) and the consumer opens the
escrow with the winner's offer; delivery paid by cumulative vouchers, or a dispute resolved by 2 of 3.

Sub-feature of v2v, with the feature order inside (scenarios > parties > model); it uses the escrow through its
package root only; nothing imports it but v2v's CLI.
"""
