"""Anonymous requests: blind-signed day tokens from the utility, a fresh unfunded pseudonym per request, and a
relayer that submits them and pays the gas.

Sub-feature of coordination, with the same order inside (cli > service > parties > client); it builds on
coordination's client and model, and coordination's client, gas, parties and scenarios use it. No other
feature imports it.
"""
