"""Coordination's commands: schedule a slot, a demo day on chain, verify a slot, the Fig. 2 experiment.

Entry point of the coordination feature: imports its scenarios, parties and clients, and the shared ui; nothing
imports it but the root CLI, which mounts what the registry below lists.
"""

from gridchain.coordination.cli import demo, deploy, fig2, schedule, verify

COMMANDS = {"schedule": schedule.schedule, "demo": demo.demo, "verify": verify.verify}
EXPERIMENTS = {"fig2": fig2.fig2}
INIT = (deploy.init_coordination,)
DEPLOY = {"coordinator": deploy.deploy_coordinator}
