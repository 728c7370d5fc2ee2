"""The clearing house (contracts/market_settlement.vy) through any gateway: deploy, accounts, the meter registry,
settle with units built from meter-signed readings and their Merkle proofs, and the views.

What cannot be encoded (a negative amount, a side other than 0 or 1, a malformed address, signature or proof, too
many units) is refused before anything is sent, with an InputError naming the field; what the contract decides
(a zero deposit, a meter of another trader, a reading not proven) comes back as its revert reason."""

from __future__ import annotations

from collections.abc import Sequence

from gridchain.chain.client import ContractClient
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.checks import check_int, parse_address
from gridchain.crypto.keys import compact, normalize_signature
from gridchain.errors import InputError
from gridchain.market.settlement.model import (
    MAX_ORDERS,
    MAX_READING_WH,
    MAX_UNITS,
    VALID_WORDS,
    Book,
    Unit,
    UnitSettled,
)

CONTRACT = "market_settlement"
MAX_PROOF = 32  # the contract's proof bound
UINT256_MAX = 2**256 - 1
BOOK_FIELDS = 3  # (orders, valid bitmap, marks): `gridchain.market.clearing.ClearArgs.book`


def unit_of(
    trader: str, side: int, active_wh: int, reactive_varh: int, signature: bytes, proof: Sequence[bytes]
) -> Unit:
    """A unit from a meter's signed reading of the interval (a signature in any standard form) and its proof to
    the day's root; InputError naming the field if one cannot be sent."""
    parse_address("trader", trader)
    check_int("side", side, 0, 1)
    check_int("active_wh", active_wh, 0, MAX_READING_WH)
    check_int("reactive_varh", reactive_varh, 0, UINT256_MAX)
    r, vs = compact(normalize_signature(signature, "signature"))
    if isinstance(proof, str | bytes) or len(proof) > MAX_PROOF:
        raise InputError("proof", f"expected at most {MAX_PROOF} hashes of 32 bytes")
    for i, node in enumerate(proof):
        if not isinstance(node, bytes) or len(node) != 32:
            raise InputError(f"proof[{i}]", f"{node!r} is not 32 bytes")
    return Unit(trader, side, active_wh, reactive_varh, r, vs, tuple(proof))


def _book(book: Book) -> tuple:
    """The book as the contract takes it; InputError naming the part that cannot be encoded."""
    if not isinstance(book, tuple | list) or len(book) != BOOK_FIELDS:
        raise InputError("book", "expected (orders, valid bitmap, marks) as the clear hashed it (ClearArgs.book)")
    orders, valid, marks = book
    if not isinstance(orders, list | tuple) or len(orders) > MAX_ORDERS:
        raise InputError("book.orders", f"expected at most {MAX_ORDERS} order words")
    if not isinstance(valid, list | tuple) or len(valid) != VALID_WORDS:
        raise InputError("book.valid", f"expected {VALID_WORDS} words of the valid reveals' bitmap")
    for i, word in enumerate(orders):
        check_int(f"book.orders[{i}]", word, 0, UINT256_MAX)
    for i, word in enumerate(valid):
        check_int(f"book.valid[{i}]", word, 0, UINT256_MAX)
    check_int("book.marks", marks, 0, UINT256_MAX)
    return list(orders), list(valid), marks


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
        for name, address in (("coin", coin), ("metering", metering), ("market", market), ("house", house)):
            parse_address(name, address)
        check_int("community", community, 0, UINT256_MAX)
        check_int("utility_price_per_kwh", utility_price_per_kwh, 0, UINT256_MAX)
        check_int("notice_s", notice_s, 0, UINT256_MAX)
        args = [coin, metering, market, community, house, utility_price_per_kwh, notice_s]
        client, receipt = cls._deploy(gateway, owner, args)
        assert isinstance(client, SettlementClient)
        return client, receipt

    # -- accounts --------------------------------------------------------------------------------------------
    def deposit(self, sender: str, amount: int) -> Receipt:
        """Pull `amount` micro-coins (approved to this contract before); a debt is repaid first."""
        check_int("amount", amount, 0, UINT256_MAX)
        return self._tx("deposit", [amount], sender)

    def request_withdrawal(self, sender: str, amount: int) -> Receipt:
        """Announce a withdrawal of `amount` micro-coins, possible after the notice (0 cancels one)."""
        check_int("amount", amount, 0, UINT256_MAX)
        return self._tx("request_withdrawal", [amount], sender)

    def withdraw(self, sender: str) -> Receipt:
        return self._tx("withdraw", [], sender)

    def set_meter(self, owner: str, trader: str, side: int, meter: str) -> Receipt:
        """Owner only: bind `trader`'s side (0 consumption, 1 feed-in) to `meter` (the zero address unbinds)."""
        parse_address("trader", trader)
        check_int("side", side, 0, 1)
        parse_address("meter", meter)
        return self._tx("set_meter", [trader, side, meter], owner)

    # -- settlement ------------------------------------------------------------------------------------------
    def settle(
        self, sender: str, interval: int, book: Book, units: Sequence[Unit]
    ) -> tuple[list[UnitSettled], Receipt]:
        """Settle `units` of cleared `interval`; `book` = (orders, valid bitmap, marks) as the clear hashed it
        (`ClearArgs.book`). Returns the UnitSettled events in unit order."""
        check_int("interval", interval, 0, UINT256_MAX)
        if len(units) > MAX_UNITS:
            raise InputError("units", f"{len(units)} units, at most {MAX_UNITS} a call")
        receipt = self._tx("settle", [interval, *_book(book), [u.as_args() for u in units]], sender)
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
