"""The parties' programs: keeper, ESU client and verifier (and, later, utility, relayer, EVs, meters)."""
