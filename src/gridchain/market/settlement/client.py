"""The clearing house (contracts/market_settlement.vy) through any gateway: deploy, accounts, the meter registry,
settle with units built from meter-signed readings and their Merkle proofs, and the views."""

from __future__ import annotations

from collections.abc import Sequence

from gridchain.chain.client import ContractClient
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.crypto.keys import compact
from gridchain.market.settlement.model import Unit, UnitSettled

CONTRACT = "market_settlement"


def unit_of(
    trader: str, side: int, active_wh: int, reactive_varh: int, signature: bytes, proof: Sequence[bytes]
) -> Unit:
    """A unit from a meter's signed reading of the interval (65-byte signature) and its proof to the day's root."""
    r, vs = compact(signature)
    return Unit(trader, side, active_wh, reactive_varh, r, vs, tuple(proof))


class SettlementClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(
        cls,
        gateway: Gateway,
        owner: str,
        coin: str,
        metering: str,
        market: str,
        community: int,
        house: str,
        utility_price_per_kwh: int,
        notice_s: int,
    ) -> tuple[SettlementClient, Receipt]:
        args = [coin, metering, market, community, house, utility_price_per_kwh, notice_s]
        client, receipt = cls._deploy(gateway, owner, args)
        assert isinstance(client, SettlementClient)
        return client, receipt

    # -- accounts --------------------------------------------------------------------------------------------
    def deposit(self, sender: str, amount: int) -> Receipt:
        """Pull `amount` micro-coins (approved to this contract before); a debt is repaid first."""
        return self._tx("deposit", [amount], sender)

    def request_withdrawal(self, sender: str, amount: int) -> Receipt:
        return self._tx("request_withdrawal", [amount], sender)

    def withdraw(self, sender: str) -> Receipt:
        return self._tx("withdraw", [], sender)

    def set_meter(self, owner: str, trader: str, side: int, meter: str) -> Receipt:
        return self._tx("set_meter", [trader, side, meter], owner)

    # -- settlement ------------------------------------------------------------------------------------------
    def settle(
        self, sender: str, interval: int, book: tuple, units: Sequence[Unit]
    ) -> tuple[list[UnitSettled], Receipt]:
        """Settle `units` of cleared `interval`; `book` = (orders, bids, n_bids, asks, n_asks) as handed to the
        clear. Returns the UnitSettled events in unit order."""
        receipt = self._tx("settle", [interval, *book, [u.as_args() for u in units]], sender)
        logs = [
            UnitSettled(**{k: (v.lower() if isinstance(v, str) else v) for k, v in e.args.items()})
            for e in receipt.named("UnitSettled")
        ]
        return logs, receipt

    # -- views -----------------------------------------------------------------------------------------------
    def balance_of(self, account: str) -> int:
        return int(self.view("balance_of", account))

    def debt(self, account: str) -> int:
        return int(self.view("debt", account))

    def total_held(self) -> int:
        return int(self.view("total_held"))

    def withdrawal_notice(self, account: str) -> tuple[int, int]:
        amount, at = self.view("withdrawal_notice", account)
        return int(amount), int(at)

    def meter_of(self, trader: str, side: int) -> str:
        return str(self.view("meter_of", trader, side)).lower()

    def is_settled(self, meter: str, interval: int) -> bool:
        return bool(self.view("is_settled", meter, interval))
