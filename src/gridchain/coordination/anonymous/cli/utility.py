"""`gridchain utility serve`: the utility's service and its work on chain, all from gridchain.toml.

The command's typer app is built by `make_utility_app(capacity_sources)`: the root CLI hands it every feature's
capacity sources (grid's `simbench` among them), which coordination cannot import itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import typer

from gridchain.coordination.anonymous.cli.epoch_keys import epoch_keys
from gridchain.errors import InputError
from gridchain.net.logs import EventLog
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

OWNER, ISSUER = "owner", "issuer"  # the [accounts] that sign on chain (owner) and sign token answers (issuer)
POSTER = "poster"  # the [accounts] entry of the coordinator's capacity poster: signs on chain under a Safe
LOOP_INTERVAL_S = 1.0  # the loop's step: capacities go out post_ahead_slots slots ahead, keys a day ahead


def make_utility_app(capacity_sources: Mapping) -> typer.Typer:
    """The `utility` command group, with `capacity_sources` ({name: factory(section) -> source})."""
    app = typer.Typer(help="The utility's services.", no_args_is_help=True)
    names = ", ".join(capacity_sources)

    @bad_input_exits
    def serve(
        config_file: Path = CONFIG,
        as_json: bool = typer.Option(False, "--json", help="Print the banner as one JSON line."),
    ) -> None:
        """Run the utility of gridchain.toml's community until SIGINT or SIGTERM.

        Serves on utility.listen: token issuance for the community's members
        (answers signed by the issuer account; at most
        community.issuance_per_minute requests per member and minute, default
        60), the member admin API (GET /members, PUT and DELETE /members/ID;
        Bearer token of utility.admin_token_file), /health (200 only while the
        node answers and the loop works, else 503 naming what failed), /metrics
        (Prometheus text).

        Its state is in the deployment's store (store.url, migrated at start):
        the epoch keys (sealed with a key derived from the issuer account's),
        the members, the tokens issued per member and epoch, the issuance
        records; a restart, even after SIGKILL, keeps them all. The members
        file (community.members) seeds the store's members only the first time
        the community is served; after that the store is the truth, the admin
        API changes it, and the file is rewritten as its export.

        With the owner account, a loop registers each epoch's key from today
        to community.lookahead_epochs ahead, and posts each slot's capacity
        from community.capacity (source: SOURCES) utility.post_ahead_slots
        slots before the slot begins, when it differs from the one in force;
        a failing step (the node away) is retried with backoff, never fatal.
        The banner is the first line on stdout, then a JSON line per action.

        When a Safe owns the coordinator, the loop posts with the capacity
        poster's account (accounts.poster, named by the Safe with
        set_capacity_poster) and registers no key: the Safe registers them
        ahead (`gridchain utility epoch-keys`); the loop checks them, warns
        (log and /health) when fewer than utility.epoch_keys_warn_days days
        remain, and fails its step naming the epoch when one it gives tokens
        for is missing.

        Example: gridchain utility serve --config pilot/gridchain.toml
        """
        from gridchain.coordination.anonymous.cli.serve import stop_on_sigterm

        try:  # a SIGTERM while setting up (say, during the SimBench flows) stops it cleanly too
            with stop_on_sigterm():
                _run(_set_up(config_file, capacity_sources), as_json)
        except KeyboardInterrupt:
            typer.echo("utility stopped before it served", err=True)

    serve.__doc__ = serve.__doc__.replace("SOURCES", names)
    app.command("serve")(serve)
    app.command("epoch-keys")(epoch_keys)
    return app


@dataclass
class _Setup:
    sock: object
    roll: object
    duty: object
    admin_token: str
    owner: str  # the coordinator's owner (an account of ours, or a Safe)
    sender: str  # who signs the duty's transactions: the owner, or the capacity poster under a Safe
    store: object
    seeded: bool
    file_differs: bool  # the members file lists others than the store (hand-edited after the first start?)
    rpc_url: str


def _set_up(config_file: Path | None, capacity_sources: Mapping) -> _Setup:
    """Read and check everything (cheap local checks first, then the listening port, the node, the capacity)."""
    from gridchain.checks import parse_address
    from gridchain.config.accounts import account_key
    from gridchain.config.file import config_path, load_config
    from gridchain.config.network import connect
    from gridchain.config.record import checked_address, load_record
    from gridchain.config.store import config_store
    from gridchain.coordination.anonymous.cli.serve import bind
    from gridchain.coordination.anonymous.parties.issuer_store import SCHEMA
    from gridchain.coordination.cli.capacity import capacity_source
    from gridchain.coordination.cli.config import community, read_members
    from gridchain.coordination.cli.utility import utility_settings
    from gridchain.net.auth import read_admin_token

    config = load_config(config_path(config_file))
    c, settings = community(config), utility_settings(config)
    members = read_members(c.members_file)
    admin_token = read_admin_token("utility.admin_token_file", settings.admin_token_file)
    store = config_store(config)
    sock = bind("utility.listen", *settings.listen)
    try:
        store.migrate(SCHEMA)
        network = connect(config)  # read only: who owns the coordinator decides who signs
        chain_id = network.settings.chain_id
        record = load_record(config, chain_id)
        coordinator = parse_address(
            "deployment.coordinator", checked_address(record, "coordinator", network.gateway.code)
        )
        issuer_key = account_key(config, ISSUER, chain_id)
        capacity = capacity_source(config, capacity_sources)
        issuer, seeded = open_issuer(store, issuer_key, coordinator, members, c)
        signer, owner = duty_signer(config, network.gateway, coordinator)
        network = connect(config, [signer])
        roll, duty = _parties(network, signer, coordinator, issuer, c, settings, capacity)
    except BaseException:
        sock.close()
        store.close()
        raise
    differs = sorted(set(members)) != roll.members()
    sender = network.address(signer)
    return _Setup(sock, roll, duty, admin_token, owner, sender, store, seeded, differs, network.settings.rpc_url)


def duty_signer(config, gateway, coordinator: str) -> tuple[str, str]:
    """(The [accounts] entry that signs the duty's transactions, the coordinator's owner): `owner` when it owns
    the coordinator; `poster` when a Safe owns it and names that account its capacity poster."""
    from gridchain.config.accounts import account_address
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.governance import is_safe

    client = CoordinatorClient(gateway, coordinator)
    owner = str(client.view("owner"))
    accounts = config.section("accounts").table
    if OWNER in accounts and account_address(config, OWNER).lower() == owner.lower():
        return OWNER, owner
    if is_safe(gateway, owner) is None:
        raise InputError(
            "accounts.owner", f"{account_address(config, OWNER)} is not the owner of the coordinator ({owner})"
        )
    if POSTER not in accounts:
        raise InputError(
            f"accounts.{POSTER}",
            f"is not configured: the coordinator's owner {owner} is a Safe, and the service posts capacity with "
            "its capacity poster's key",
        )
    poster, on_chain = account_address(config, POSTER), client.capacity_poster()[0]
    if poster.lower() != on_chain.lower():
        raise InputError(
            f"accounts.{POSTER}",
            f"{poster} is not the coordinator's capacity poster ({on_chain}): the Safe {owner} names it with "
            "set_capacity_poster",
        )
    return POSTER, owner


def open_issuer(store, issuer_key: str, coordinator: str, members: list[str], c):
    """The issuer on its store (the sealed keys checked against the issuer account's key); the members file
    seeds the community's members the first time only (True then)."""
    from gridchain.coordination.anonymous.parties.issuer import Issuer
    from gridchain.coordination.anonymous.parties.issuer_store import IssuerStore
    from gridchain.coordination.anonymous.parties.rate_limit import RateLimit

    book = IssuerStore(store, bytes.fromhex(issuer_key.removeprefix("0x")), f"accounts.{ISSUER}")
    book.check_secret()
    issuer = Issuer(
        bytes.fromhex(issuer_key.removeprefix("0x")),
        quota=c.quota,
        lookahead_epochs=c.lookahead_epochs,
        book=book,
        rate=RateLimit(c.issuance_per_minute),
    )
    return issuer, issuer.add_community(coordinator, members)


def _parties(network, signer: str, coordinator: str, issuer, c, settings, capacity):
    """The issuer's member roll, and the utility's duty on chain, signed by `signer` (an [accounts] entry)."""
    from gridchain.coordination.anonymous.parties.members import MemberRoll
    from gridchain.coordination.cli.config import write_members
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.coordination.parties.utility import Utility, UtilityDuty

    client = CoordinatorClient(network.gateway, coordinator)
    roll = MemberRoll(issuer, coordinator, lambda ms: write_members(c.members_file, ms))
    duty = UtilityDuty(
        Utility(client, network.address(signer)),
        lambda epoch: issuer.epoch_key(coordinator, epoch).public.modulus_bytes,
        capacity,
        lookahead_epochs=c.lookahead_epochs,
        post_ahead_slots=settings.post_ahead_slots,
        log=_log_line,
        registers_keys=signer == OWNER,
        warn_days=settings.epoch_keys_warn_days,
    )
    return roll, duty


def _run(setup: _Setup, as_json: bool) -> None:
    from gridchain.coordination.anonymous.cli.serve import serve_on
    from gridchain.coordination.anonymous.service.utility import utility_app
    from gridchain.net.health import Health, loop_check, node_check

    roll, duty = setup.roll, setup.duty
    loop = duty.loop(LOOP_INTERVAL_S)

    def transactions() -> dict:
        keys = {} if duty.registers_keys else {"epoch_keys": duty.keys}  # under a Safe: the keys registered ahead
        return {"transactions": duty.transactions, **keys}

    health = Health({"node": node_check(setup.rpc_url), "duty": loop_check(loop, extra=transactions)})
    app = utility_app(roll, setup.admin_token, health)
    app.state.metrics.watch(loop)
    app.state.metrics.read(
        "utility_transactions", "Transactions the duty sent.", lambda: duty.transactions, counter=True
    )
    banner = {
        "service": "utility",
        "coordinator": roll.community,
        "issuer": roll.issuer.address,
        "owner": setup.owner,
        "sender": setup.sender,  # the owner, or the capacity poster when a Safe owns the coordinator
        "epoch_keys": "registered by this service" if duty.registers_keys else "registered ahead by the Safe",
        "members": len(roll.members()),
        "members_seeded": setup.seeded,  # True: from the members file (first start); False: from the store
        "store": setup.store.url,
        "quota": roll.issuer.quota,
        "lookahead": roll.issuer.lookahead_epochs,
        "post_ahead_slots": duty.post_ahead_slots,
    }
    if setup.file_differs:
        typer.echo(
            "utility: community.members: the members file differs from the store's members; the store's are"
            " served (change them with the admin API; the file is rewritten at the next change)",
            err=True,
        )
    try:  # the loop starts once the banner is out: its log lines follow the banner
        serve_on(setup.sock, app, banner, as_json, started=loop.start)
    finally:
        loop.stop()
        setup.store.close()


_log_line = EventLog("utility", "stdout").entry("action")  # one JSON line per action on stdout, flushed
