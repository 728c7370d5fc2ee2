"""The LAG committee's part of `gridchain deploy` (`[committee]`).

Entry point of the committee feature: imports its client and the shared config; nothing imports it but the root
CLI, which mounts what the registry below lists.
"""

from gridchain.committee.cli import deploy

DEPLOY = {"committee": deploy.deploy_committee}
