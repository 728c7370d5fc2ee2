"""Every contract in contracts/*.vy with an owner has its owner action in OWNER_ACTIONS (read from the ABIs, so that
a future owned contract cannot be left out of the Safe's tests and gas), and each action is owner-only."""

import pytest
from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.compiler import CONTRACTS_DIR, compile_contract
from gridchain.chain.gateway import ChainRevert
from gridchain.crypto.keys import address_of
from gridchain.governance.actions import CONSTRUCTOR_ARGS, OWNER_ACTIONS


def owned_contracts() -> set[str]:
    """The contracts whose ABI has `owner()` and `transfer_ownership(address)` (snekmate's ownable)."""
    out = set()
    for path in sorted(CONTRACTS_DIR.glob("*.vy")):
        names = {e.get("name") for e in compile_contract(path.stem).abi if e.get("type") == "function"}
        if {"owner", "transfer_ownership"} <= names:
            out.add(path.stem)
    return out


def test_every_owned_contract_has_an_owner_action():
    owned = owned_contracts()
    assert "market_settlement" in owned and "call_market" not in owned
    assert owned == set(OWNER_ACTIONS)


@pytest.mark.parametrize("name", list(OWNER_ACTIONS))
def test_each_action_is_owner_only_and_shows_its_effect(name):
    chain = BoaGateway(accounts=2)
    owner, stranger = chain.accounts
    action, deployed = OWNER_ACTIONS[name], {}
    for needed in (*action.needs, name):
        deployed[needed] = chain.deploy(
            compile_contract(needed), CONSTRUCTOR_ARGS[needed](chain.now(), chain.accounts, deployed), owner
        ).contract_address
    artifact, address, subject = compile_contract(name), deployed[name], address_of(keccak(text=f"subject {name}"))
    if action.before is not None:
        contract, fn, args = action.before
        chain.transact(compile_contract(contract), deployed[contract], fn, args(subject), owner)
    with pytest.raises(ChainRevert, match="caller is not the owner"):
        chain.transact(artifact, address, action.fn, action.args(subject), stranger)
    assert not action.expect(chain.call(artifact, address, action.check, action.check_args(subject)))
    chain.transact(artifact, address, action.fn, action.args(subject), owner)
    assert action.expect(chain.call(artifact, address, action.check, action.check_args(subject)))
