"""Consumer-controlled monitoring (GridMonitoring, Gao et al. 2018, in the survey's section II-A): a household's
meter data sealed to it, consent on chain, every access recorded in the household's hash-chained thread and
attested by M-of-N consensus nodes, breaches judged on chain or alerted to the household.
"""
