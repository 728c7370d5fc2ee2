"""The call market on a SimBench LV feeder: a day of its households' load and PV as prosumers' orders, cleared
under both rules against the LP optimum, and the transformer's loading with and without the market.

Sub-feature of market, with the same order inside (cli > scenarios | gas | plots > service > parties > client >
model); it uses the grid feature only through `gridchain.grid`'s package root.
"""
