"""The trade escrow (contracts/trade_escrow.vy) through any gateway: terms, the offer, resolutions and vouchers
signed with local keys, a role's on-chain approval (what a contract role such as a Safe does instead of signing), the
calls that open and settle a trade, and the accounts' coin balances in the escrow (deposit, withdraw_coin)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_utils import to_checksum_address

from gridchain.chain.client import ContractClient
from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.crypto import eip712
from gridchain.crypto.keys import Key, normalize_signature, recover_digest, sign_digest
from gridchain.errors import InputError
from gridchain.escrow.model import ETH, Resolution, Terms, Voucher, domain

CONTRACT = "trade_escrow"


class EscrowClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(cls, gateway: Gateway, deployer: str, metering: str, coin: str) -> tuple[EscrowClient, Receipt]:
        """Deploy an escrow reading meters from `metering` and taking `coin` besides ETH (nobody owns it)."""
        return cls._deploy(gateway, deployer, [metering, coin])

    @classmethod
    def deploy_with_meters(
        cls, gateway: Gateway, deployer: str, meters: Sequence[str], owners: Sequence[str]
    ) -> tuple[EscrowClient, str, str, dict[str, int]]:
        """What the demos run on: a metering contract with `meters` registered (meter i owned by owners[i], at site
        i), the energy coin, and an escrow over both; (escrow, metering address, coin address, deployment gas by
        contract). The metering contract's and the coin's artifacts are `compile_contract`'s."""
        metering_artifact, coin_artifact = compile_contract("metering"), compile_contract("energy_coin")
        metering = gateway.deploy(metering_artifact, [0], deployer)
        coin = gateway.deploy(coin_artifact, ["gridchain energy coin", "GEC"], deployer)
        assert metering.contract_address is not None and coin.contract_address is not None
        metering_at, coin_at = metering.contract_address, coin.contract_address
        for i, (meter, owner) in enumerate(zip(meters, owners, strict=True)):
            gateway.transact(metering_artifact, metering_at, "register_meter", [meter, owner, 1, i], deployer)
        escrow, receipt = cls.deploy(gateway, deployer, metering_at, coin_at)
        gas = {"metering": metering.gas_used, "coin": coin.gas_used, "escrow": receipt.gas_used}
        return escrow, metering_at, coin_at, gas

    def domain(self) -> eip712.Domain:
        return domain(self.chain_id(), self.address)

    # -- signing -----------------------------------------------------------------------------------------
    def trade_id(self, terms: Terms) -> bytes:
        """The trade id (computed locally: the EIP-712 digest of the terms in this escrow's domain)."""
        return eip712.digest(self.domain(), terms)

    def sign_offer(self, meter_owner: Key, terms: Terms) -> bytes:
        """The meter owner's offer: its signature of the terms."""
        return sign_digest(meter_owner, self.trade_id(terms))

    def sign_resolution(self, role: Key, terms: Terms, seller_amount: int) -> bytes:
        """A role's signature of Resolution(trade, seller_amount)."""
        return sign_digest(role, eip712.digest(self.domain(), Resolution(self.trade_id(terms), seller_amount)))

    def sign_voucher(self, buyer: Key, terms: Terms, cumulative: int) -> bytes:
        """The buyer's instalment voucher: the seller is owed `cumulative` in all."""
        return sign_digest(buyer, eip712.digest(self.domain(), Voucher(self.trade_id(terms), cumulative)))

    # -- trades ------------------------------------------------------------------------------------------
    def open(self, terms: Terms, offer: bytes) -> Receipt:
        """The buyer opens the trade: an ETH trade sends `amount`; a coin trade is paid from the buyer's coin balance
        in the escrow if that covers `amount`, else needs the buyer's allowance."""
        offer = normalize_signature(offer, "offer")
        value = terms.amount if terms.token.lower() == ETH else 0
        return self._tx("open", [terms.as_tuple(), offer], terms.buyer, value)

    def approve(self, role: str, terms: Terms, seller_amount: int) -> Receipt:
        """`role` (the buyer, seller or arbiter, sending) agrees to Resolution(trade, seller_amount) on chain, for
        good. A Safe role sends the same call through its execTransaction: `SafeClient.act(escrow.artifact,
        escrow.address, "approve", [terms.as_tuple(), seller_amount], owner_keys, sender)`."""
        return self._tx("approve", [terms.as_tuple(), seller_amount], role)

    def resolve(self, sender: str, terms: Terms, seller_amount: int, signatures: Iterable[bytes]) -> Receipt:
        """Submit 0 .. 3 roles' signatures (with the roles that approved on chain, at least two roles), each
        normalised (InputError naming `signatures[i]`), checked here to be by distinct signers of this resolution."""
        h = eip712.digest(self.domain(), Resolution(self.trade_id(terms), seller_amount))
        signed, signers = [], set()
        for i, raw in enumerate(signatures):
            signature = normalize_signature(raw, f"signatures[{i}]")
            signers.add(recover_digest(h, signature, f"signatures[{i}]"))
            signed.append(signature)
        if len(signers) != len(signed):
            raise InputError("signatures", "two signatures by one signer")
        return self._tx("resolve", [terms.as_tuple(), seller_amount, signed], sender)

    def claim(self, terms: Terms, cumulative: int, voucher: bytes) -> Receipt:
        """The seller settles on the buyer's latest voucher."""
        return self._tx("claim", [terms.as_tuple(), cumulative, normalize_signature(voucher, "voucher")], terms.seller)

    def refund(self, sender: str, terms: Terms) -> Receipt:
        return self._tx("refund", [terms.as_tuple()], sender)

    def withdraw(self, sender: str, to: str) -> Receipt:
        return self._tx("withdraw", [to], sender)

    # -- coin balances ---------------------------------------------------------------------------------------
    def deposit(self, payer: str, account: str, amount: int) -> Receipt:
        """`payer` (with its allowance for the escrow) pays `amount` coins into `account`'s coin balance."""
        return self._tx("deposit", [account, amount], payer)

    def withdraw_coin(self, sender: str, to: str, amount: int) -> Receipt:
        """`sender` takes `amount` of its coin balance back, to `to`."""
        return self._tx("withdraw_coin", [to, amount], sender)

    # -- reads -------------------------------------------------------------------------------------------
    def status(self, terms: Terms) -> int:
        """0 never opened, 1 open, 2 closed."""
        return int(self.view("status", self.trade_id(terms)))

    def is_locked(self, meter: str, interval: int) -> bool:
        return bool(self.view("is_locked", meter, interval))

    def approvals(self, terms: Terms, seller_amount: int) -> int:
        """The roles that approved Resolution(trade, seller_amount) on chain: bit 0 buyer, 1 seller, 2 arbiter."""
        h = eip712.digest(self.domain(), Resolution(self.trade_id(terms), seller_amount))
        return int(self.view("approvals", h))

    def credit(self, account: str) -> int:
        return int(self.view("credit", account))

    def coin_balance(self, account: str) -> int:
        """`account`'s coins in the escrow, which its coin trades spend first [coin units]."""
        return int(self.view("coin_balance", account))

    def held(self) -> tuple[int, int]:
        """(held ETH [wei], held coin: open coin trades and coin balances)."""
        return int(self.view("held_eth")), int(self.view("held_coin"))

    def coin(self) -> str:
        return to_checksum_address(str(self.view("COIN")))
