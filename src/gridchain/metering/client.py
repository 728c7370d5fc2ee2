"""The metering contract through any gateway: registry, anchored readings, tariffs, escrow, reservations and
roaming settlement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gridchain.chain.client import ContractClient
from gridchain.chain.events import read_events
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.crypto import eip712
from gridchain.crypto.keys import compact, recover_digest
from gridchain.errors import InputError
from gridchain.metering import model as m

CONTRACT = "metering"


def signer_of(digest: bytes, signature: bytes) -> str:
    """Whom a signature of `digest` recovers to (lower case), the address the twin compares; the zero address
    if it recovers to nobody (a malformed signature)."""
    try:
        return recover_digest(digest, signature).lower()
    except InputError:
        return m.ZERO


@dataclass(frozen=True)
class SignedReading:
    reading: m.Reading
    signature: bytes


@dataclass(frozen=True)
class SignedSession:
    """A roaming session ready to settle: the EV's signed start and the meter's signed reading."""

    start: m.SessionStart
    ev_signature: bytes
    reading: m.SessionReading
    meter_signature: bytes

    def as_args(self) -> list[object]:
        if len(self.reading.energy_wh) > m.MAX_SESSION_INTERVALS:
            raise ValueError(
                f"energy_wh: {len(self.reading.energy_wh)} intervals, at most {m.MAX_SESSION_INTERVALS} settle at once"
            )
        return [
            *start_args(self.start),
            *compact(self.ev_signature),
            self.reading.first_interval,
            list(self.reading.energy_wh),
            *compact(self.meter_signature),
        ]


def start_args(start: m.SessionStart) -> list[object]:
    """A SessionStart as the contract's leading arguments (ev, meter, start, max_cost_wei)."""
    return [start.ev, start.meter, start.start, start.max_cost_wei]


@dataclass(frozen=True)
class ReadingProof:
    """Everything `gridchain meter prove` needs: the signed reading, its Merkle proof and the root's period."""

    signed: SignedReading
    proof: tuple[bytes, ...]
    period: int
    root: bytes


def settled_from(a: dict) -> m.Settled:
    """A SessionSettled event's arguments as the model's record."""
    return m.Settled(
        bytes(a["session"]),
        str(a["ev"]).lower(),
        str(a["payer"]).lower(),
        str(a["host"]).lower(),
        str(a["meter"]).lower(),
        int(a["first_interval"]),
        int(a["intervals"]),
        int(a["energy_wh"]),
        int(a["cost_wei"]),
        int(a["paid_wei"]),
    )


class MeteringClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(cls, gateway: Gateway, owner: str, notice_s: int) -> tuple[MeteringClient, Receipt]:
        return cls._deploy(gateway, owner, [notice_s])

    def domain(self) -> eip712.Domain:
        return m.domain(self.chain_id(), self.address)

    def digest(self, struct: m.Reading | m.DayRoot | m.SessionStart | m.SessionReading) -> bytes:
        """What the contract recovers a signature of `struct` from (a reading's digest is also its Merkle leaf)."""
        return eip712.digest(self.domain(), struct)

    # -- the utility -----------------------------------------------------------------------------------
    def register_meter(self, owner: str, meter: str, meter_owner: str, community: int, premises: int) -> Receipt:
        return self._tx("register_meter", [meter, meter_owner, community, premises], owner)

    def register_ev(self, owner: str, ev: str, ev_owner: str) -> Receipt:
        return self._tx("register_ev", [ev, ev_owner], owner)

    def set_gateway(self, owner: str, gateway: str, allowed: bool = True) -> Receipt:
        return self._tx("set_gateway", [gateway, allowed], owner)

    def assign_gateway(self, owner: str, meter: str, gateway: str) -> Receipt:
        """Name the one gateway that anchors `meter`'s days (the zero address: none)."""
        return self._tx("assign_gateway", [meter, gateway], owner)

    def set_tariff(self, owner: str, community: int, effective_from: int, prices: Sequence[int]) -> Receipt:
        if len(prices) != m.HOURS:
            raise ValueError(f"prices: {len(prices)} entries, a tariff has one per hour ({m.HOURS})")
        return self._tx("set_tariff", [community, effective_from, list(prices)], owner)

    # -- readings --------------------------------------------------------------------------------------
    def anchor_root(self, gateway: str, meter: str, period: int, root: bytes, count: int) -> Receipt:
        return self._tx("anchor_root", [meter, period, root, count], gateway)

    def anchor_signed_root(self, sender: str, day_root: m.DayRoot, signature: bytes) -> Receipt:
        """Anchor a root the meter signed (replaces the gateway's or an older version's); anyone may send it."""
        d = day_root
        return self._tx(
            "anchor_signed_root", [d.meter, d.period, d.root, d.count, d.version, *compact(signature)], sender
        )

    def verify_reading(self, signed: SignedReading, proof: Sequence[bytes]) -> bool:
        r = signed.reading
        return bool(
            self.view(
                "verify_reading",
                r.meter,
                r.interval_start,
                r.active_wh,
                r.reactive_varh,
                *compact(signed.signature),
                list(proof),
            )
        )

    def root(self, meter: str, period: int) -> bytes | None:
        root = bytes(self.view("root", meter, period))
        return None if root == b"\x00" * 32 else root

    def root_version(self, meter: str, period: int) -> int:
        return int(self.view("root_version", meter, period))

    def is_gateway(self, account: str) -> bool:
        return bool(self.view("is_gateway", account))

    def gateway_of(self, meter: str) -> str | None:
        gateway = str(self.view("gateway_of", meter)).lower()
        return None if gateway == m.ZERO else gateway

    # -- the escrow ------------------------------------------------------------------------------------
    def deposit(self, sender: str, amount_wei: int) -> Receipt:
        return self._tx("deposit", [], sender, value=amount_wei)

    def request_withdrawal(self, sender: str, amount_wei: int) -> Receipt:
        return self._tx("request_withdrawal", [amount_wei], sender)

    def withdraw_escrow(self, sender: str) -> Receipt:
        return self._tx("withdraw_escrow", [], sender)

    def withdraw_credit(self, sender: str) -> Receipt:
        return self._tx("withdraw_credit", [], sender)

    # -- roaming ---------------------------------------------------------------------------------------
    def reserve(self, host: str, start: m.SessionStart, ev_signature: bytes) -> tuple[bytes, Receipt]:
        """Reserve the start's max cost of the EV owner's escrow for the session (by the meter's owner, once);
        the session id and the receipt."""
        receipt = self._tx("reserve", [*start_args(start), *compact(ev_signature)], host)
        (event,) = receipt.named("Reserved")
        return bytes(event.args["session"]), receipt

    def release(self, sender: str, start: m.SessionStart) -> tuple[int, Receipt]:
        """Return a session's reservation to the escrow (anyone after its time-out, the meter's owner at any
        time); the amount [wei] and the receipt."""
        receipt = self._tx("release", start_args(start), sender)
        (event,) = receipt.named("Released")
        return int(event.args["amount_wei"]), receipt

    def settle_session(self, sender: str, session: SignedSession) -> tuple[m.Settled, Receipt]:
        receipt = self._tx("settle_session", session.as_args(), sender)
        (event,) = receipt.named("SessionSettled")
        return settled_from(event.args), receipt

    def tariffs(self, community: int, from_block: int = 0) -> list[m.Tariff]:
        """Every tariff version of `community`, oldest first, from the contract's `TariffSet` events."""
        events = read_events(self.gateway, self.artifact, self.address, ("TariffSet",), from_block)
        return [
            m.Tariff(int(e.args["effective_from"]), tuple(int(p) for p in e.args["prices_wei_per_kwh"]))
            for e in sorted(events, key=lambda e: int(e.args["version"]))
            if int(e.args["community"]) == community
        ]

    def settlements(self, from_block: int = 0) -> list[m.Settled]:
        """Every settled roaming session, from the contract's `SessionSettled` events."""
        events = read_events(self.gateway, self.artifact, self.address, ("SessionSettled",), from_block)
        return [settled_from(e.args) for e in events]

    def settlement_of(self, session: bytes, from_block: int = 0) -> tuple[m.Settled, str] | None:
        """A session's settlement on chain and its transaction's hash, from its `SessionSettled` event; None if
        it did not settle (a restart's check of a settlement it may have sent)."""
        events = read_events(self.gateway, self.artifact, self.address, ("SessionSettled",), from_block)
        for e in events:
            if bytes(e.args["session"]) == session:
                return settled_from(e.args), e.tx_hash
        return None

    # -- reads -----------------------------------------------------------------------------------------
    def meter(self, meter: str) -> m.Meter | None:
        owner, community, premises = self.view("meter", meter)
        return None if int(owner, 16) == 0 else m.Meter(str(owner).lower(), int(community), int(premises))

    def ev_owner(self, ev: str) -> str | None:
        owner = str(self.view("ev_owner", ev)).lower()
        return None if owner == m.ZERO else owner

    def escrow(self, owner: str) -> int:
        return int(self.view("escrow", owner))

    def available_escrow(self, owner: str) -> int:
        return int(self.view("available_escrow", owner))

    def credit(self, host: str) -> int:
        return int(self.view("credit", host))

    def reserved(self, session: bytes) -> int:
        """What is reserved for a session [wei] (0: none, or settled, or released)."""
        return int(self.view("reserved", session))

    def session_id(self, start: m.SessionStart) -> bytes:
        return bytes(self.view("session_id", *start_args(start)))

    def is_billed(self, meter: str, interval: int) -> bool:
        return bool(self.view("is_billed", meter, interval))

    def price_at(self, community: int, t: int) -> int:
        return int(self.view("price_at", community, t))

    def withdrawal_notice(self, owner: str) -> tuple[int, int]:
        amount, at = self.view("withdrawal_notice", owner)
        return int(amount), int(at)
