"""A household on the dashboard tests' town (tests/dashboard/town.py, its own anvil): a wallet made by `gridchain esu
init`, blind tokens from the utility's issuer (the pilot's issuer key, served on loopback), anonymous requests in
several slots through a relayer (in-process, on loopback), each confirmed by the wallet, the slots closed by the
town's keeper and indexed. It keeps every secret the wallet came to hold (and the blinding factors its tokens
were made with), so a test can show that none of them leaves in the wallet's public view."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.config.accounts import account_key, password
from gridchain.config.file import load_config
from gridchain.coordination.anonymous.parties.issuer import Issuer, TokenWallet
from gridchain.coordination.anonymous.parties.relayer import Relayer
from gridchain.coordination.anonymous.service.issuance import IssuanceClient, issuance_app
from gridchain.coordination.anonymous.service.relayer import RelayerClient, relayer_app
from gridchain.coordination.parties import wallet_tables
from gridchain.coordination.parties.wallet import EsuWallet
from gridchain.coordination.parties.wallet_state import WalletState
from gridchain.crypto import blind
from gridchain.crypto.keystore import read_keystore
from gridchain.net.server import LoopbackServer
from tests.dashboard.town import Town

WALLET = "house"
QUOTA = 4


class Household:
    """The town, and the household's wallet `house` in its config's wallets folder."""

    def __init__(self, node, folder: Path) -> None:
        self.town = t = Town(node, folder)
        self.config = t.config
        cli(["esu", "init", "--wallet", WALLET, "--light-keystore", "--config", str(self.config)])
        cfg = load_config(self.config)
        self.folder = self.config.parent / "wallets" / WALLET
        self.identity_key = read_keystore(self.folder / "identity.json", password(cfg), "--wallet")
        self.issuer = Issuer(bytes.fromhex(account_key(cfg, "issuer", 31337)[2:]), quota=QUOTA, clock=t.gateway.now)
        self.issuer.admit(t.client.address, Account.from_key(self.identity_key).address)
        today = blind.epoch_of(t.gateway.now())
        for epoch in (today, today + 1):
            modulus = self.issuer.epoch_key(t.client.address, epoch).public.modulus_bytes
            t.client.register_epoch_key(t.owner, epoch, modulus)
        self.relayer = Relayer(t.client, t.members[-1])
        self.blinding: list[int] = []  # every blinding factor r the wallet's tokens were made with

    def obtain_tokens(self, issuance: IssuanceClient, wallet: EsuWallet) -> None:
        """Tokens for today and tomorrow, their blinding factors kept (the wallet forgets them)."""
        made = []
        original = blind.blind

        def recording(public, message, rng=None):
            b = original(public, message, rng)
            made.append(pow(b.inverse, -1, public.n))
            return b

        blind.blind = recording
        try:
            tokens = TokenWallet(bytes.fromhex(self.identity_key[2:]), self.issuer.address, issuance)
            epoch = blind.epoch_of(self.town.gateway.now())
            wallet.obtain_tokens(tokens, issuance.modulus, [epoch, epoch + 1], QUOTA)
        finally:
            blind.blind = original
        self.blinding += made

    def play(self) -> list[int]:
        """Requests in two slots (a big one carried on), the town's members beside them; three slots closed and
        indexed. The slots closed."""
        with LoopbackServer(issuance_app(self.issuer)) as utility, LoopbackServer(relayer_app(self.relayer)) as relay:
            issuance, http = IssuanceClient(utility.url), RelayerClient(relay.url)
            wallet = EsuWallet(WalletState.open(self.folder), self.town.client, http)
            try:
                self.obtain_tokens(issuance, wallet)
                slots = [self._slot(wallet, [(18_000, 200, 3), (4_000, 700, 2)], 12_000)]
                slots.append(self._slot(wallet, [(6_000, 400, 1)], 9_000))
                slots.append(self.town.slot(1, 30_000))
            finally:
                wallet.state.close()
                issuance.close()
                http.close()
        return slots

    def _slot(self, wallet: EsuWallet, requests: list[tuple[int, int, int]], capacity_w: int) -> int:
        for demand_w, soc_pm, tcc in requests:
            wallet.request(demand_w, soc_pm, tcc)
        self.relayer.flush()
        notes = wallet.refresh()
        assert all(k.status == "confirmed" for k, _ in notes), [(k.status, n) for k, n in notes]
        return self.town.slot(2, capacity_w)

    def secrets(self) -> set[str]:
        """Every secret the wallet holds, each as lowercase hex without 0x (and big integers in decimal too):
        the identity key, each pseudonym's key, each token, each relayer ticket, each signed body and its
        signature, each blinding factor."""
        state = WalletState.open(self.folder)
        try:
            rows = state.store.read(lambda c: c.execute(wallet_tables.requests.select()).all())
            tokens = state.store.read(lambda c: c.execute(wallet_tables.tokens.select()).all())
        finally:
            state.close()
        values = [self.identity_key]
        for r in [*rows, *tokens]:
            values += [r.key, r.token]
        for r in rows:
            values += [r.ticket, r.body, json.loads(r.body)["signature"], json.loads(r.body)["token"]]
        out = {v.lower().removeprefix("0x") for v in values if v}
        out |= {str(int(v, 16)) for v in out if len(v) > 40 and all(c in "0123456789abcdef" for c in v)}
        for r in self.blinding:
            out |= {f"{r:x}", str(r)}
        return {v for v in out if len(v) >= 16}


def cli(args: list[str]) -> str:
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, (args, r.exit_code, r.output)
    return r.stdout
