"""`gridchain utility epoch-keys`: the epoch keys of the coming days, made by the issuer into the deployment's
store (where `utility serve` finds them) and registered on chain ahead by the coordinator's owner: the
[accounts] owner itself, or, when a Safe owns the coordinator, the Safe: one Safe transaction for up to
BATCH_EPOCHS epochs (SafeClient.act_batch through Safe's MultiSendCallOnly 1.4.1: one nonce, one signature check,
all or nothing), signed here with owners' keystores (--signer) and sent by an [accounts] entry (--sender, default
the capacity poster). MultiSendCallOnly is the deployment record's `multi_send`, else Safe's canonical address,
else deployed here from safe-eth-py's published bytecode by --sender and recorded (its code checked each time).

Signing here (rather than printing SafeTx hashes to sign elsewhere) is what the codebase's keys are: encrypted
keystores opened with the [keys] password, and `gridchain.governance.SafeClient.act_batch`, which signs and
sends in one call; each signer is one owner's keystore, brought to the machine for the run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

MAX_DAYS = 366
BATCH_EPOCHS = 32
"""Epoch keys per Safe transaction. Measured on anvil (Osaka, --enable-tx-gas-limit), a 2-of-3 Safe's batch of 32
registrations: gasUsed 3,275,668, estimated gas 3,374,206 (~105,400 a key; 100 keys: 10,339,083), so the RPC
gateway's limit (the estimate + 20% + its headroom) is ~4.1M: a quarter of EIP-7825's 16,777,216 cap."""
MULTI_SEND = "multi_send"  # the deployment record's entry for the MultiSendCallOnly the batches go through


@bad_input_exits
def epoch_keys(
    days: int = typer.Option(..., "--days", help="Register the keys of today .. today + DAYS - 1 (UTC days)."),
    signers: list[Path] = typer.Option(  # noqa: B008
        [], "--signer", help="A Safe owner's keystore (the [keys] password): as many as the Safe's threshold."
    ),
    sender: str = typer.Option("poster", "--sender", help="The [accounts] entry that sends the Safe's transactions."),
    config_file: Path = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
) -> None:
    """Make the epoch keys of the next DAYS days and register those not on chain yet, as the coordinator's owner.

    The keys go into the deployment's store, sealed as `utility serve` keeps them (run it before the service or
    beside it). The owner is [accounts] owner (the keys are sent from it), or a Safe: then one Safe transaction
    per 32 epochs (a batch through MultiSendCallOnly, deployed by --sender and recorded if the chain has none),
    signed by the --signer keystores (owners of the Safe, at least its threshold) and sent by --sender.
    Keys already registered are checked to be this issuer's (else nothing is sent, exit 2 naming the epoch).

    Example: gridchain utility epoch-keys --days 30 --signer a.json --signer b.json --config pilot/gridchain.toml
    """
    from gridchain.checks import check_int
    from gridchain.config.file import config_path, load_config

    check_int("--days", days, 1, MAX_DAYS)
    config = load_config(config_path(config_file))
    result = register_ahead(config, days, signers, sender)
    if as_json:
        typer.echo(json.dumps(result))
        return
    sent = [e for e in result["epochs"] if e["tx"]]
    typer.echo(
        f"epochs {result['epochs'][0]['epoch']}..{result['epochs'][-1]['epoch']}: {len(sent)} key(s) registered "
        f"by {result['via']} {result['owner']}, {len(result['epochs']) - len(sent)} already on chain"
    )


def register_ahead(config, days: int, signers: list[Path], sender: str) -> dict:
    """Make and register the keys of today .. today + days - 1; what was done, per epoch (the Safe's batches:
    the same tx for the epochs of one batch)."""
    from gridchain.config.accounts import account_key
    from gridchain.config.network import connect
    from gridchain.config.record import checked_address, load_record
    from gridchain.config.store import config_store
    from gridchain.coordination.anonymous.cli.utility import ISSUER, open_issuer
    from gridchain.coordination.anonymous.parties.issuer_store import SCHEMA
    from gridchain.coordination.cli.config import community, read_members
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.crypto.blind import epoch_of

    c = community(config)
    members = read_members(c.members_file)
    store = config_store(config)
    try:
        store.migrate(SCHEMA)
        network = connect(config)
        chain_id = network.settings.chain_id
        record = load_record(config, chain_id)
        coordinator = checked_address(record, "coordinator", network.gateway.code)
        issuer, _ = open_issuer(store, account_key(config, ISSUER, chain_id), coordinator, members, c)
        issuer.lookahead_epochs = max(issuer.lookahead_epochs, days - 1)  # this run makes keys that far ahead
        client = CoordinatorClient(network.gateway, coordinator)
        today = epoch_of(int(time.time()))
        moduli = {e: issuer.epoch_key(coordinator, e).public.modulus_bytes for e in range(today, today + days)}
        missing = [e for e, modulus in moduli.items() if _on_chain(client, e, modulus) is None]
        owner = str(client.view("owner"))
        via, send = _owner_or_safe(config, record, client, owner, signers, sender, bool(missing))
        txs = {}
        for i in range(0, len(missing), BATCH_EPOCHS if via == "Safe" else 1):
            batch = missing[i : i + BATCH_EPOCHS] if via == "Safe" else missing[i : i + 1]
            tx = send({e: moduli[e] for e in batch})
            txs.update(dict.fromkeys(batch, tx))
    finally:
        store.close()
    epochs = [{"epoch": e, "tx": txs.get(e)} for e in moduli]
    return {"coordinator": coordinator, "owner": owner, "via": via, "epochs": epochs}


def _on_chain(client, epoch: int, modulus: bytes) -> bytes | None:
    """The key hash registered for `epoch`, None if none; one that is not `modulus`'s is refused."""
    from eth_utils import keccak

    on_chain = client.epoch_key(epoch)
    if not any(on_chain):
        return None
    if on_chain != keccak(modulus):
        raise InputError(
            f"epoch {epoch}",
            "the key registered on chain is not this issuer's (another store, or its keys lost?): nothing sent",
        )
    return on_chain


def _owner_or_safe(config, record, client, owner: str, signers: list[Path], sender: str, needed: bool):
    """("owner" or "Safe", a function sending epochs' keys ({epoch: modulus}, one epoch for the owner) in one
    transaction, its hash; None if not `needed`): from [accounts] owner if it owns the coordinator, else through
    the Safe that does, signed by `signers`' keystores (checked first), batched through MultiSendCallOnly."""
    from gridchain.config.accounts import account_address, password
    from gridchain.config.network import connect
    from gridchain.coordination.anonymous.cli.utility import OWNER
    from gridchain.coordination.anonymous.client import words
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.crypto.keys import address_of
    from gridchain.crypto.keystore import read_keystore
    from gridchain.governance import SafeClient, is_safe

    accounts = config.section("accounts").table
    if OWNER in accounts and account_address(config, OWNER).lower() == owner.lower():
        if signers:
            raise InputError("--signer", f"the coordinator's owner is [accounts] {OWNER}, not a Safe")
        if not needed:
            return "owner", None
        signing = connect(config, [OWNER])
        mine, by = CoordinatorClient(signing.gateway, client.address), signing.address(OWNER)
        return "owner", lambda keys: [mine.register_epoch_key(by, e, m).tx_hash for e, m in keys.items()][0]
    safe = is_safe(client.gateway, owner)
    if safe is None:
        ours = account_address(config, OWNER) if OWNER in accounts else "no [accounts] owner"
        raise InputError("accounts.owner", f"{ours} is not the owner of the coordinator ({owner}), nor is it a Safe")
    if not needed:
        return "Safe", None
    owners, threshold = safe
    if len(signers) < threshold:
        given = len(signers)
        raise InputError(
            "--signer", f"the Safe {owner} needs {threshold} owners' signatures: {given} keystore(s) given"
        )
    keys = [read_keystore(path, password(config), f"--signer ({path})") for path in signers]
    seen: set[str] = set()
    for path, key in zip(signers, keys, strict=True):
        if address_of(key).lower() not in {o.lower() for o in owners}:
            raise InputError("--signer", f"{address_of(key)} ({path}) is not an owner of the Safe {owner}")
        if address_of(key).lower() in seen:
            raise InputError("--signer", f"{address_of(key)} ({path}) is given twice: one signature per owner")
        seen.add(address_of(key).lower())
    signing = connect(config, [sender])
    by = signing.address(sender)
    through = SafeClient(signing.gateway, owner, _multi_send(record, signing.gateway, by))
    artifact, target = client.artifact, client.address

    def send(moduli: dict[int, bytes]) -> str:
        calls = [(artifact, target, "register_epoch_key", [e, words(m)]) for e, m in moduli.items()]
        return through.act_batch(calls, keys, by).tx_hash

    return "Safe", send


def _multi_send(record, gateway, sender: str) -> str:
    """The MultiSendCallOnly 1.4.1 the Safe's batches go through: the record's (its code the published one), else
    Safe's canonical deployment if this chain has it, else a new one from the published bytecode, sent by `sender`
    and recorded."""
    from gridchain.config.record import code_hash
    from gridchain.governance import CANONICAL_MULTI_SEND, check_published, published

    entry = record.contracts.get(MULTI_SEND)
    if isinstance(entry, dict) and isinstance(entry.get("address"), str):
        if gateway.code(entry["address"]) == published("MultiSendCallOnly")[1]:
            return entry["address"]
    if gateway.code(CANONICAL_MULTI_SEND) == published("MultiSendCallOnly")[1]:
        return CANONICAL_MULTI_SEND
    artifact, runtime = published("MultiSendCallOnly")
    receipt = gateway.deploy(artifact, [], sender)
    address = check_published(gateway, receipt.contract_address, "MultiSendCallOnly", f"deployment.{MULTI_SEND}")
    record.put(
        MULTI_SEND,
        {
            "contract": artifact.name,
            "address": address,
            "block": receipt.block,
            "tx_hash": receipt.tx_hash,
            "gas_used": receipt.gas_used,
            "code_hash": code_hash(runtime),
            "source": artifact.compiler,
            "owner": None,
        },
    )
    return address
