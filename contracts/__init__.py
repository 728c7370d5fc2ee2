"""The Vyper sources, installed as the package `gridchain.contracts` (see setup.py) so that an installed gridchain
compiles them; this folder holds no Python."""
