"""The programs coordination's parties run around the contract: posting each slot's capacity, requesting
energy and checking the schedule, closing slots, recomputing a slot from the chain.

Layer `parties`: imports coordination's client and model (and anonymous/ for tokens and the relayer), shared
adapters and the kernel; never scenarios, gas, plots or cli.
"""
