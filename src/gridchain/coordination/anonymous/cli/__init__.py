"""The anonymous mode's commands: `gridchain utility serve` (issuance, members, keys and capacities on chain)
and `gridchain relayer serve`."""

from gridchain.coordination.anonymous.cli.relayer import relayer_app
from gridchain.coordination.anonymous.cli.utility import make_utility_app
from gridchain.coordination.anonymous.parties.issuer_store import SCHEMA as ISSUER_SCHEMA
from gridchain.coordination.anonymous.parties.relayer_store import SCHEMA as RELAYER_SCHEMA

APPS = {"relayer": relayer_app}  # what the root CLI mounts
APP_FACTORIES = {"utility": make_utility_app}  # built by the root CLI with every feature's CAPACITY_SOURCES
SCHEMAS = [ISSUER_SCHEMA, RELAYER_SCHEMA]  # the parties' tables in the deployment's store (`gridchain store`)
