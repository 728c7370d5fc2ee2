"""The escrow contract (contracts/petcon_escrow.vy) through any gateway: deploy, escrow, fund, settle a committed
`result.Result` with its poles' readings, withdraw, and the views."""

from __future__ import annotations

from collections.abc import Sequence

from gridchain.chain.client import ContractClient
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.crypto.keys import compact
from gridchain.market.petcon.escrow.model import Reading
from gridchain.market.petcon.result import Result

CONTRACT = "petcon_escrow"


def signed_reading(active_wh: int, reactive_varh: int, signature: bytes, proof: Sequence[bytes]) -> Reading:
    """A meter's reading as `settle` takes it: its 65-byte EIP-712 Reading signature made compact (EIP-2098)
    and the Merkle proof of its leaf in the day's anchored root."""
    r, vs = compact(signature)
    return Reading(active_wh, reactive_varh, r, vs, tuple(proof))


class EscrowClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(
        cls,
        gateway: Gateway,
        owner: str,
        coin: str,
        metering: str,
        committee: str,
        lot: int,
        house: str,
        penalty_bps: int,
        settle_s: int,
    ) -> tuple[EscrowClient, Receipt]:
        return cls._deploy(gateway, owner, [coin, metering, committee, lot, house, penalty_bps, settle_s])

    # -- the house opens a round; coins in (the coin's approve first) --------------------------------------
    def open_round(self, sender: str, round: int) -> Receipt:
        return self._tx("open_round", [round], sender)

    def escrow(self, sender: str, round: int, amount: int) -> Receipt:
        return self._tx("escrow", [round, amount], sender)

    def fund(self, sender: str, amount: int) -> Receipt:
        return self._tx("fund", [amount], sender)

    # -- settlement -------------------------------------------------------------------------------------------
    def settle(self, sender: str, result: Result, indices: Sequence[int], readings: Sequence[Reading]) -> Receipt:
        """Settle `result`'s entries `indices` with `result.intervals` readings each, in that order."""
        r = result
        return self._tx(
            "settle",
            [
                r.lot,
                r.round,
                r.first_interval,
                r.intervals,
                r.record_hash,
                [e.as_tuple() for e in r.entries],
                list(indices),
                [x.as_tuple() for x in readings],
            ],
            sender,
        )

    # -- coins out --------------------------------------------------------------------------------------------
    def withdraw(self, sender: str, round: int) -> Receipt:
        return self._tx("withdraw", [round], sender)

    def withdraw_house(self, sender: str, amount: int) -> Receipt:
        return self._tx("withdraw_house", [amount], sender)

    # -- reads ------------------------------------------------------------------------------------------------
    def escrowed(self, round: int, party: str) -> int:
        return int(self.view("escrowed", round, party))

    def house(self) -> int:
        return int(self.view("house"))

    def total_held(self) -> int:
        return int(self.view("total_held"))

    def opened_at(self, round: int) -> int:
        return int(self.view("opened_at", round))

    def is_open(self, round: int) -> bool:
        return bool(self.view("is_open", round))

    def is_pole_settled(self, pole: str, interval: int) -> bool:
        return bool(self.view("is_pole_settled", pole, interval))

    def is_settled(self, round: int, party: str) -> bool:
        return bool(self.view("settled_party", round, party))

    def entries_settled(self, round: int) -> int:
        return int(self.view("entries_settled", round))
