"""The LAG committee's part of `gridchain deploy` (`[committee]`).

Entry point of the committee feature: imports its client and the shared config; nothing imports it but the root
CLI, which mounts what the registry below lists.
"""

from gridchain.committee.cli import deploy
from gridchain.committee.client import CONTRACT
from gridchain.index.indexer import Source

DEPLOY = {"committee": deploy.deploy_committee}
INDEX = {"committee": Source(CONTRACT)}  # attestations and membership, for `gridchain index run`
