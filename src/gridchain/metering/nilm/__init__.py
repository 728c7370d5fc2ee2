"""Load disaggregation (NILM): EV charging sessions found in a household's aggregate P and Q, and generated
households with ground truth to measure it on.

Sub-feature of metering, with the same order inside; the model never imports the household generator (only
scenarios do). metering's scenarios use the model and the generator; no other feature imports nilm.
"""
