"""One deployment's configuration: `gridchain.toml`, its encrypted keystores, and the deployment record.

Shared adapter (between the CLI helpers in `ui` and the chain): reads the file, checks every value naming its
option, opens the keystores (passwords from the environment or a file, never argv), connects to the node the
file names (checking its chain id), and reads and writes the record `gridchain deploy` leaves. Features parse
their own sections with `Config.section`; this package imports no feature.
"""
