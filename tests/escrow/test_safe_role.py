"""A Safe as a role of the trade escrow, on the embedded chain and on anvil under Osaka (marked `integration`): the
distribution operator's 2-of-3 Safe 1.4.1 (deployed from safe-eth-py's published bytecode, tests/governance) is a
trade's arbiter. A contract cannot sign, so the Safe agrees on chain: execTransaction of `approve(terms, amount)`
with two owners' signatures; then one party's EIP-712 signature (or its own approval) settles. One owner's
signature is refused by the Safe (GS020) and approves nothing; the Safe's approval of one split does not settle
another; the Safe's approval and nothing else settles nothing."""

from __future__ import annotations

import boa
import pytest
from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.coin.client import CoinClient
from gridchain.crypto.keys import address_of
from gridchain.escrow import EscrowClient, Terms
from gridchain.escrow.model import ETH
from gridchain.governance import SafeClient, deploy_safe_contracts
from gridchain.metering.client import MeteringClient

OWNER_KEYS = [keccak(text=f"escrow safe test owner {i}") for i in range(3)]
METER_OWNER, SELLER, METER = (keccak(text=f"escrow safe test key {i}") for i in range(3))
AMOUNT = 10**15


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.integration)])
def chain(request):
    if request.param == "embedded":
        with boa.swap_env(boa.Env()):
            yield BoaGateway(accounts=4)
    else:
        from gridchain.chain.anvil import start_anvil
        from gridchain.chain.rpc_gateway import RpcGateway

        with start_anvil(hardfork="osaka", accounts=4) as node:
            yield RpcGateway(node.url, node.keys)


@pytest.fixture
def world(chain):
    gateway = chain
    deployer, buyer = gateway.accounts[:2]
    contracts = deploy_safe_contracts(gateway, deployer)
    safe, _ = SafeClient.create(gateway, contracts, [address_of(k) for k in OWNER_KEYS], 2, deployer)
    metering, _ = MeteringClient.deploy(gateway, deployer, 0)
    metering.register_meter(deployer, address_of(METER), address_of(METER_OWNER), 1, 1)
    coin, _ = CoinClient.deploy(gateway, deployer)
    escrow, _ = EscrowClient.deploy(gateway, deployer, metering.address, coin.address)
    t = Terms(
        buyer, address_of(SELLER), safe.address, ETH, AMOUNT, address_of(METER), gateway.now() // 900 + 8, 4, 2_000,
        gateway.now() + 3600, keccak(text="salt"),
    )  # fmt: skip
    escrow.open(t, escrow.sign_offer(METER_OWNER, t))
    return gateway, safe, escrow, t


def safe_approves(gateway, safe, escrow, t, amount, keys):
    """The Safe's execTransaction of escrow.approve(t, amount), signed by `keys`, sent by a relayer."""
    return safe.act(escrow.artifact, escrow.address, "approve", [t.as_tuple(), amount], keys, gateway.accounts[3])


def test_the_safe_arbiter_approves_and_the_sellers_one_signature_releases(world):
    gateway, safe, escrow, t = world
    with pytest.raises(ChainRevert, match="GS020"):  # one owner's signature: the Safe refuses, nothing approved
        safe_approves(gateway, safe, escrow, t, AMOUNT, OWNER_KEYS[:1])
    assert escrow.approvals(t, AMOUNT) == 0
    one = [escrow.sign_resolution(SELLER, t, AMOUNT)]
    with pytest.raises(ChainRevert) as refused:
        escrow.resolve(gateway.accounts[3], t, AMOUNT, one)
    assert refused.value.reason == "trade_escrow: fewer than two roles"
    safe_approves(gateway, safe, escrow, t, AMOUNT, OWNER_KEYS[1:])
    assert escrow.approvals(t, AMOUNT) == 0b100 and safe.nonce() == 1
    with pytest.raises(ChainRevert) as refused:  # the Safe's approval alone
        escrow.resolve(gateway.accounts[3], t, AMOUNT, [])
    assert refused.value.reason == "trade_escrow: fewer than two roles"
    settled = escrow.resolve(gateway.accounts[3], t, AMOUNT, one)
    assert settled.named("Resolved")[0].args["signers"] == 0b110  # the seller signed, the arbiter approved
    assert escrow.status(t) == 2 and gateway.balance(t.seller) == AMOUNT and escrow.held() == (0, 0)
    with pytest.raises(ChainRevert, match="GS013"):  # settled: the Safe's approval reverts inside (trade not open)
        safe_approves(gateway, safe, escrow, t, AMOUNT, OWNER_KEYS[:2])


def test_a_dispute_split_by_the_buyer_and_the_safe_arbiter(world):
    gateway, safe, escrow, t = world
    split = AMOUNT // 3
    safe_approves(gateway, safe, escrow, t, split, [OWNER_KEYS[0], OWNER_KEYS[2]])
    escrow.approve(t.buyer, t, split + 1)  # the buyer's approval of another split does not count for this one
    with pytest.raises(ChainRevert) as refused:
        escrow.resolve(gateway.accounts[3], t, split, [])
    assert refused.value.reason == "trade_escrow: fewer than two roles"
    escrow.approve(t.buyer, t, split)
    assert escrow.approvals(t, split) == 0b101 and escrow.approvals(t, split + 1) == 0b001
    buyer_before = gateway.balance(t.buyer)
    settled = escrow.resolve(gateway.accounts[3], t, split, [])  # two roles on chain: no signature at all
    assert settled.named("Resolved")[0].args["signers"] == 0b101
    assert gateway.balance(t.seller) == split and gateway.balance(t.buyer) == buyer_before + AMOUNT - split
    assert escrow.status(t) == 2 and escrow.is_locked(t.meter, t.first_interval)  # the seller was paid: sold
