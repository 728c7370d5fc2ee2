"""The V2V reverse-auction contract through any gateway, and the consumer's EIP-712 delivery receipts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gridchain.chain.client import ContractClient
from gridchain.chain.events import read_events
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.crypto import eip712
from gridchain.crypto.keys import compact, recover_digest, sign_digest
from gridchain.v2v.model import Auction, required_collateral

CONTRACT = "v2v_auction"
DOMAIN_NAME, DOMAIN_VERSION = "gridchain v2v", "1"


def domain(chain_id: int, contract: str) -> eip712.Domain:
    """The EIP-712 domain of the V2V auction contract at `contract` on `chain_id`."""
    return eip712.Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, contract)


@dataclass(frozen=True)
class SignedReceipt(eip712.TypedStruct):
    """The consumer's statement that `delivered_wh` (cumulative) of the trade with access token `token` arrived:
    EIP-712 `Receipt`, signed by the consumer."""

    TYPE = "Receipt(bytes32 token,uint256 deliveredWh)"

    token: bytes
    delivered_wh: int
    signature: bytes  # 65 bytes (r, s, v); not a member of TYPE

    def as_args(self) -> list[int]:
        """delivered_wh, r, vs: the contract's arguments after the consumer (EIP-2098 compact signature)."""
        return [self.delivered_wh, *compact(self.signature)]


def sign_receipt(
    consumer_key: bytes | str, chain_id: int, contract: str, token: bytes, delivered_wh: int
) -> SignedReceipt:
    unsigned = SignedReceipt(token, delivered_wh, b"")
    signature = sign_digest(consumer_key, eip712.digest(domain(chain_id, contract), unsigned))
    return dataclasses.replace(unsigned, signature=signature)


def receipt_signer(chain_id: int, contract: str, receipt: SignedReceipt) -> str:
    """Whom the receipt's signature recovers to (what the contract compares with the consumer)."""
    return recover_digest(eip712.digest(domain(chain_id, contract), receipt), receipt.signature)


class V2VClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(cls, gateway: Gateway, owner: str, validity_s: int, grace_s: int) -> tuple[V2VClient, Receipt]:
        return cls._deploy(gateway, owner, [validity_s, grace_s])

    # -- the organisation ------------------------------------------------------------------------------
    def add_ev(self, owner: str, ev: str, info: str = "") -> Receipt:
        return self._tx("add_ev", [ev, info], owner)

    def remove_ev(self, owner: str, ev: str) -> Receipt:
        return self._tx("remove_ev", [ev], owner)

    def change_status(self, owner: str, active: bool) -> Receipt:
        return self._tx("change_status", [active], owner)

    # -- trading ---------------------------------------------------------------------------------------
    def start_auction(
        self,
        consumer: str,
        amount_wh: int,
        bidding_time_s: int,
        start_rate_wei_per_kwh: int,
        deposit_wei: int,
        min_collateral_wei: int | None = None,
    ) -> Receipt:
        """`min_collateral_wei`: the least collateral of a bid (None: the contract's default, the deposit)."""
        args = [amount_wh, bidding_time_s, start_rate_wei_per_kwh]
        if min_collateral_wei is not None:
            args.append(min_collateral_wei)
        return self._tx("start_auction", args, consumer, deposit_wei)

    def place_bid(self, provider: str, consumer: str, rate_wei_per_kwh: int, collateral_wei: int) -> Receipt:
        return self._tx("place_bid", [consumer, rate_wei_per_kwh], provider, collateral_wei)

    def end_auction(self, consumer: str, sender: str | None = None) -> tuple[bytes | None, Receipt]:
        """End `consumer`'s auction: by the consumer (`sender` None) once bidding has closed, by anyone GRACE
        later. The access token from the AuctionEnded event (None: nobody bid, the deposit went back)."""
        if sender is None or sender.lower() == consumer.lower():
            receipt = self._tx("end_auction", [], consumer)
        else:
            receipt = self._tx("end_auction", [consumer], sender)
        token = bytes(receipt.named("AuctionEnded")[0].args["token"])
        return (None if token == b"\x00" * 32 else token), receipt

    def post_receipt(self, sender: str, consumer: str, receipt: SignedReceipt) -> Receipt:
        return self._tx("post_receipt", [consumer, *receipt.as_args()], sender)

    def settle(self, sender: str, consumer: str, receipt: SignedReceipt) -> Receipt:
        return self._tx("settle", [consumer, *receipt.as_args()], sender)

    def expire(self, sender: str, consumer: str) -> Receipt:
        return self._tx("expire", [consumer], sender)

    def withdraw(self, sender: str) -> Receipt:
        return self._tx("withdraw", [], sender)

    # -- reads -----------------------------------------------------------------------------------------
    def auction(self, consumer: str) -> Auction:
        fields = self.view("auction", consumer)
        return Auction(str(fields[0]).lower(), *(int(x) for x in fields[1:]))

    def token(self, consumer: str) -> bytes | None:
        token = bytes(self.view("token", consumer))
        return None if token == b"\x00" * 32 else token

    def pending_returns(self, account: str) -> int:
        return int(self.view("pending_returns", account))

    def required_collateral(self, consumer: str, rate_wei_per_kwh: int) -> int:
        """What a bid at this rate in `consumer`'s auction must carry: max(rate x amount, the minimum) [wei]."""
        a = self.auction(consumer)
        return required_collateral(rate_wei_per_kwh, a.amount_wh, a.min_collateral_wei)

    def admitted_at(self, ev: str) -> int:
        """When the organisation admitted `ev` [s] (0: not admitted)."""
        return int(self.view("admitted_at", ev))

    def announced(self, ev: str, from_block: int = 0) -> str | None:
        """What the organisation announced for `ev` when it last admitted it (`EVAdded`'s info: a provider's
        service URL); None if it never admitted `ev`."""
        added = read_events(self.gateway, self.artifact, self.address, ("EVAdded",), from_block)
        mine = [e.args["info"] for e in added if e.args["ev"].lower() == ev.lower()]
        return mine[-1] if mine else None

    def cost(self, rate_wei_per_kwh: int, energy_wh: int) -> int:
        return int(self.view("cost", rate_wei_per_kwh, energy_wh))

    @property
    def validity_s(self) -> int:
        return int(self.view("VALIDITY"))

    @property
    def grace_s(self) -> int:
        return int(self.view("GRACE"))
