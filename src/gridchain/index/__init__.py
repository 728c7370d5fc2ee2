"""The deployment's event indexer: every contract's events read once into the store, checkpointed, reorgs rolled
back, and read back by keeper, verify, the ESU client and the dashboard.

Shared adapter above `chain` and `store` (and the kernel); never imports a feature, `config`, `ui` or the CLI.
"""
