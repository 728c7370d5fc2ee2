"""NILM's model: EV charging sessions found in a household's aggregate active and reactive power. Detection finds
the candidates (step events, plateau pairing, features); classification labels them (a rule set, a random forest)
and flags the EV sessions that no signed charging session explains.

Layer `model` of nilm: pure computation (the kernel, numpy; scikit-learn inside the forest), no I/O, no clocks;
classification builds on detection. It never imports the household generator (data), which only scenarios use.
"""
