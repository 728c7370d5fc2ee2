"""Vehicle-to-vehicle energy trading by reverse auction (Abou El Houda et al.): deposits, underbids with
collateral, an access token, off-chain mutual authentication, settlement by signed delivery receipts.

Feature: cli > scenarios | gas | plots > service > parties > client > model inside; imports shared adapters and
the kernel, and the trade escrow through its package root (escrowed/: the auction whose bids are escrow offers).
Nothing imports v2v but the root CLI.
"""
