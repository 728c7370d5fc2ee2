"""The call market's settlement: the community's clearing house pays each cleared interval's fills in energy
coins against the parties' anchored meter readings, imbalances at the utility's price.

Sub-feature of market: gas > client > model inside; uses coin and metering only through their package roots.
"""
