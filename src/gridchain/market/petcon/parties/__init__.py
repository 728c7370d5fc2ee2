"""The programs PETCON's parties run: the LAG's auctioneer, the PHEVs (buyers and sellers) that bid from private
parameters under a one-auction pseudonym, the signing of their requests, and a LAG of the committee that checks
a result before it signs.

Layer `parties` of the petcon sub-feature: imports petcon's model, result and audit, the committee's client and
the shared adapters; the service, scenarios and cli use it.
"""
