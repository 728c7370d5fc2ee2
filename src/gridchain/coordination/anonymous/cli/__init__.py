"""The anonymous mode's commands: `gridchain utility serve` (token issuance) and `gridchain relayer serve`."""

from gridchain.coordination.anonymous.cli.relayer import relayer_app
from gridchain.coordination.anonymous.cli.utility import utility_app

APPS = {"utility": utility_app, "relayer": relayer_app}  # what the root CLI mounts
