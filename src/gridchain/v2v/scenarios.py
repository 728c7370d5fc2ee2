"""One V2V trade end to end: a consumer EV, five provider EVs, the auction on chain, the mutual
authentication and the charging session over a provider's HTTP service on 127.0.0.1, the settlement.

Providers come back three times each, in random order at random times during the bidding window; each
time a provider that does not hold the lowest bid underbids it by a step, but not below its reserve rate
(drawn from the seed): an English reverse auction, which the provider with the lowest reserve wins. The winner's service
answers the consumer's hello; two refused hellos (a replay and a forged token) show the checks. Energy then
flows in 2 kWh increments, each followed by the consumer's signed cumulative receipt; the provider posts one
receipt midway and settles with the last; the outbid providers withdraw their collateral.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from eth_account import Account

from gridchain.chain.gateway import Gateway
from gridchain.chain.locked import LockedGateway
from gridchain.net.server import LoopbackServer
from gridchain.v2v.client import V2VClient
from gridchain.v2v.parties import AuthRefused, ConsumerEV, ProviderEV
from gridchain.v2v.service import ProviderClient, provider_app

TWEI = 10**12
PROVIDERS = 5
ROUNDS = 3  # each provider comes back this many times during the bidding window


@dataclass(frozen=True)
class TradeConfig:
    seed: int = 0
    amount_wh: int = 20_000
    start_rate_wei_per_kwh: int = 300 * TWEI  # 0.0003 ETH per kWh
    bidding_time_s: int = 600
    increment_wh: int = 2_000
    validity_s: int = 3_600
    grace_s: int = 1_800
    step_wei_per_kwh: int = 15 * TWEI  # how far a provider underbids the current rate (down to its reserve)
    min_collateral_wei: int | None = None  # the least collateral of a bid (None: the consumer's deposit)


@dataclass
class TradeResult:
    config: dict
    contract: str
    consumer: str
    providers: list[str]
    bids: list[dict] = field(default_factory=list)  # {t_s, provider, rate_wei_per_kwh, collateral_wei, gas}
    token: str = ""
    winner: str = ""
    authentication: list[dict] = field(default_factory=list)  # {step, ok, detail}
    deliveries: list[dict] = field(default_factory=list)  # {delivered_wh, receipted_wh}
    settlement: dict = field(default_factory=dict)
    balances: dict = field(default_factory=dict)  # account -> {before, after, change} [wei]
    gas: dict = field(default_factory=dict)
    contract_balance_after_wei: int = -1

    def to_json(self) -> dict:
        return asdict(self)


def run(
    gateway: Gateway,
    keys: Sequence[str],
    config: TradeConfig = TradeConfig(),
    progress: Callable[[str], None] | None = None,
) -> TradeResult:
    """`keys`: private keys of gateway.accounts[0..6] (owner, consumer, five providers)."""
    say = progress or (lambda _: None)
    rng = np.random.default_rng(config.seed)
    chain = LockedGateway(gateway)  # the provider's service answers from its own thread
    owner, consumer_account, *provider_accounts = gateway.accounts[: 2 + PROVIDERS]
    client, deploy = V2VClient.deploy(chain, owner, config.validity_s, config.grace_s)
    consumer = ConsumerEV(client, keys[1])
    providers = [ProviderEV(client, keys[2 + i], config.increment_wh) for i in range(PROVIDERS)]
    assert consumer.address == consumer_account and [p.address for p in providers] == provider_accounts
    result = TradeResult(asdict(config), client.address, consumer.address, [p.address for p in providers])
    result.gas["deploy"] = deploy.gas_used
    everyone = [consumer.address, *result.providers]
    before = {a: chain.balance(a) for a in everyone}
    for ev, label in zip(everyone, ["consumer", *(f"provider {i + 1}" for i in range(PROVIDERS))]):
        client.add_ev(owner, ev, label)
    say("EVs admitted")

    # -- the reverse auction --------------------------------------------------------------------------
    started = consumer.start_auction(
        config.amount_wh, config.bidding_time_s, config.start_rate_wei_per_kwh, config.min_collateral_wei
    )
    result.gas["start_auction"] = started.gas_used
    t0 = chain.now()
    reserves = rng.integers(150, 290, PROVIDERS) * TWEI
    turns = np.concatenate([rng.permutation(PROVIDERS) for _ in range(ROUNDS)])
    arrivals = np.sort(rng.choice(np.arange(10, config.bidding_time_s - 10, 10), len(turns), replace=False))
    for provider_index, at in zip(turns, arrivals):
        provider, reserve = providers[provider_index], int(reserves[provider_index])
        chain.advance_time(max(0, t0 + int(at) - chain.now()))
        trade = client.auction(consumer.address)
        if trade.provider == provider.address.lower():
            continue  # it holds the lowest bid already
        rate = max(reserve, trade.rate_wei_per_kwh - config.step_wei_per_kwh)
        entry = {
            "t_s": chain.now() - t0,
            "provider": provider.address,
            "rate_wei_per_kwh": rate,
            "collateral_wei": 0,
            "gas": 0,
            "placed": rate < trade.rate_wei_per_kwh,
        }
        if entry["placed"]:
            entry["collateral_wei"] = client.required_collateral(consumer.address, rate)
            entry["gas"] = provider.bid(consumer.address, rate).gas_used
        result.bids.append(entry)
    say("bids placed")
    chain.advance_time(max(0, t0 + config.bidding_time_s - chain.now()))
    token, ended = client.end_auction(consumer.address)
    assert token is not None
    result.gas["end_auction"] = ended.gas_used
    trade = client.auction(consumer.address)
    winner = next(p for p in providers if p.address.lower() == trade.provider)
    result.token, result.winner = "0x" + token.hex(), winner.address
    say("auction ended")

    # -- mutual authentication and delivery over the winner's service ------------------------------------
    with LoopbackServer(provider_app(winner, chain.now)) as server:
        http = ProviderClient(server.url)
        try:
            hello = consumer.hello(token)
            proof = http.hello(hello)
            result.authentication.append(
                {
                    "step": "consumer -> provider: hello (token, public key, challenge)",
                    "ok": True,
                    "detail": f"signed by {consumer.address}",
                }
            )
            consumer.check_proof(hello, proof)
            result.authentication.append(
                {
                    "step": "provider -> consumer: challenge signed",
                    "ok": True,
                    "detail": f"by {proof.provider}, the auction's winner on chain",
                }
            )
            forged = consumer.hello(secrets.token_bytes(32))  # correctly signed, for a token the chain never issued
            for label, bad in (("a replayed hello", hello), ("a hello with a forged token", forged)):
                try:
                    http.hello(bad)
                    result.authentication.append({"step": label, "ok": True, "detail": "ACCEPTED (a bug)"})
                except AuthRefused as e:
                    result.authentication.append({"step": label, "ok": False, "detail": f"refused: {e.reason}"})
            while True:
                delivered = http.deliver(token)
                receipted = http.receipt(consumer.receipt(token, delivered))
                result.deliveries.append({"delivered_wh": delivered, "receipted_wh": receipted})
                if delivered == config.amount_wh // 2:
                    result.gas["post_receipt"] = winner.post_receipt(token).gas_used
                if delivered >= config.amount_wh:
                    break
        finally:
            http.close()
    say("energy delivered")

    # -- settlement and withdrawals -------------------------------------------------------------------
    settled = winner.settle(token)
    closed = settled.named("TradeClosed")[0].args
    result.gas["settle"] = settled.gas_used
    result.settlement = {
        "delivered_wh": closed["delivered_wh"],
        "rate_wei_per_kwh": trade.rate_wei_per_kwh,
        "to_provider_wei": closed["to_provider_wei"],
        "to_consumer_wei": closed["to_consumer_wei"],
        "deposit_wei": trade.deposit_wei,
        "collateral_wei": trade.collateral_wei,
        "min_collateral_wei": trade.min_collateral_wei,
    }
    for p in providers:
        if client.pending_returns(p.address):
            result.gas.setdefault("withdraw", client.withdraw(p.address).gas_used)
    after = {a: chain.balance(a) for a in everyone}
    result.balances = {a: {"before": before[a], "after": after[a], "change": after[a] - before[a]} for a in everyone}
    result.contract_balance_after_wei = client.balance()
    say("settled")
    return result


def dev_keys_for(gateway: Gateway) -> list[str]:
    """The private keys of the gateway's accounts (anvil's development accounts, also the embedded chain's)."""
    from gridchain.chain.anvil import dev_keys

    keys = dev_keys(len(gateway.accounts))
    assert [Account.from_key(k).address for k in keys] == list(gateway.accounts)
    return keys
