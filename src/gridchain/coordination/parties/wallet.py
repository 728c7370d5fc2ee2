"""An ESU's wallet at work: obtains blind tokens, spends one per request through the relayer, follows each request
until the chain confirms it (re-signing one that missed its slot, with the same token, for the current slot),
and reads what the chain granted it, checked against the rule.

Plain values in (a coordinator client, the relayer's client, a `TokenWallet` with the identity key); the state
lives in a `WalletState`, saved after every change, so a crash between two steps loses no token and no request.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from eth_utils import keccak

from gridchain.coordination.anonymous.client import sign_request
from gridchain.coordination.anonymous.parties.issuer import TokenWallet
from gridchain.coordination.anonymous.parties.relayer import RelayRefused
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import CoordinatorError, check_fields, pack
from gridchain.coordination.model.verify import ChainRecords, follow, verify_slots
from gridchain.coordination.parties.wallet_state import OPEN, KeptRequest, Token, WalletState
from gridchain.errors import InputError

NO_KEY = b"\x00" * 32


class Unreachable(Exception):
    """A service (the relayer) could not be reached; what was being done is kept in the wallet for later."""


@dataclass
class EpochTokens:
    """What `obtain_tokens` did for one epoch."""

    epoch: int
    obtained: int
    held: int  # unused tokens in the wallet for it, after
    note: str = ""


@dataclass
class Allocation:
    """One slot of one request's story on chain, and whether that slot's schedule is the rule's."""

    request: int  # the wallet's request number
    arrival: int
    slot: int
    granted_w: int
    status: str  # the allocation's status (granted, partial, waiting, ...)
    verified: bool
    problems: tuple[str, ...] = ()


@dataclass
class EsuWallet:
    state: WalletState
    client: CoordinatorClient
    relayer: object  # RelayerClient: send(body) -> {"id", ...}, status(id) -> ticket JSON

    @property
    def community(self) -> str:
        return self.client.address

    def current_slot(self) -> int:
        return int(self.client.view("current_slot"))

    # -- tokens -------------------------------------------------------------------------------------------
    def obtain_tokens(self, wallet: TokenWallet, modulus, epochs: list[int], quota: int) -> list[EpochTokens]:
        """Tokens for each of `epochs` up to `quota` per epoch, each epoch's key checked against the chain
        (`modulus(community, epoch)` fetches the utility's); an epoch without a key on chain is skipped."""
        out, chain_id = [], self.client.chain_id()
        for epoch in epochs:
            wanted = quota - self.state.count_obtained(self.community, epoch)
            registered = self.client.epoch_key(epoch)
            if wanted <= 0 or registered == NO_KEY:
                note = "quota used" if wanted <= 0 else "no key registered on chain yet"
                out.append(EpochTokens(epoch, 0, len(self.state.unused(self.community, epoch)), note))
                continue
            key = modulus(self.community, epoch)
            if keccak(key) != registered:
                raise InputError("esu.utility_url", f"the utility's key for epoch {epoch} is not the one on chain")
            wallet.obtain(chain_id, self.community, epoch, key, registered, wanted)
            got = [
                Token(self.community, epoch, "0x" + p.key.hex(), p.address, hex(p.token))
                for p in wallet.unused.pop((self.community, epoch), [])
            ]
            self.state.add_obtained(self.community, epoch, got)
            self.state.save()
            out.append(EpochTokens(epoch, len(got), len(self.state.unused(self.community, epoch))))
        return out

    # -- requests -----------------------------------------------------------------------------------------
    def request(self, demand_w: int, soc_pm: int, tcc: int, slot: int | None = None) -> KeptRequest:
        """Spend a token of the slot's epoch on a request for `slot` (default: the current one), keep it, send it.
        Raises Unreachable (the request kept, unsent) when the relayer cannot be reached."""
        try:
            check_fields(demand_w, soc_pm, tcc)
        except CoordinatorError as e:
            raise InputError("request", str(e).removeprefix("coordinator: ")) from None
        slot = self.current_slot() if slot is None else slot
        epoch = self.client.epoch_of_slot(slot)
        token = self.state.take(self.community, epoch)
        if token is None:
            raise InputError("--wallet", f"no unused token for epoch {epoch}: run `gridchain esu tokens`")
        kept = self.state.keep(token, demand_w, soc_pm, tcc, slot)
        self.state.save()  # the token now travels with its request: a crash below loses neither
        self._send(kept, slot)
        return kept

    def _send(self, kept: KeptRequest, slot: int) -> None:
        """Sign `kept` for `slot` with its pseudonym and hand it to the relayer; record what it answered."""
        t = kept.token
        signed = sign_request(
            bytes.fromhex(t.key[2:]),
            self.client.chain_id(),
            self.community,
            t.epoch,
            slot,
            kept.demand_w,
            kept.soc_pm,
            kept.tcc,
            int(t.token, 16),
        )
        kept.slot, kept.ticket, kept.reason = slot, None, None
        kept.slots_tried.append(slot)
        try:
            kept.ticket, kept.status = self.relayer.send(signed.to_json())["id"], "queued"
        except RelayRefused as e:
            if not e.field:  # the relayer cannot read the chain (503): not this request's fault
                kept.status, kept.reason = "unsent", e.reason
                raise Unreachable(kept.reason) from None
            kept.status = "late" if e.field == "slot" else "failed"
            kept.reason = f"{e.field}: {e.reason}"
        except (httpx.TransportError, OSError) as e:  # kept: `refresh` sends it again
            kept.status, kept.reason = "unsent", f"the relayer cannot be reached: {e}"
            raise Unreachable(kept.reason) from None
        finally:
            self.state.save()

    # -- following ----------------------------------------------------------------------------------------
    def refresh(self, retry: bool = True) -> list[tuple[KeptRequest, str]]:
        """Follow every open request: ask the relayer, confirm a submitted one against the chain, and (unless
        not `retry`) send again, for the current slot with the same token, one that missed its slot or was never
        sent. Returns each open request with a note on what happened to it now."""
        current = self.current_slot()
        out = []
        for kept in [r for r in self.state.requests if r.status in OPEN]:
            note = self._follow(kept, current)
            if kept.status in ("late", "unsent", "new") and retry:
                note = self._retry(kept, current) or note
            self.state.save()
            out.append((kept, note))
        return out

    def _follow(self, kept: KeptRequest, current: int) -> str:
        if kept.status in ("queued", "submitted") and kept.ticket is not None:
            try:
                ticket = self.relayer.status(kept.ticket)
            except (httpx.TransportError, OSError) as e:
                return f"the relayer cannot be reached: {e}"
            except httpx.HTTPStatusError:  # an unknown ticket (the relayer restarted): the chain decides
                ticket = {"status": "unknown", "reason": "the relayer does not know the ticket"}
            return self._settle(kept, ticket, current)
        return ""

    def _settle(self, kept: KeptRequest, ticket: dict, current: int) -> str:
        status = ticket.get("status")
        if status == "submitted":
            kept.arrival = int(ticket["arrival"])
            if self.on_chain(kept):
                kept.status = "confirmed"
                return f"confirmed on chain in slot {kept.slot}"
            kept.status = "submitted"
            return "the relayer says submitted, but the chain does not hold it (yet)"
        if status == "failed":
            late = "slot" in (ticket.get("reason") or "") or current > kept.slot
            kept.status, kept.reason = ("late" if late else "failed"), ticket.get("reason")
            return f"failed: {kept.reason}"
        if current > kept.slot:  # queued or unknown after its slot: not on chain in its slot
            if self.client.spent(kept.token.address):
                kept.status = "submitted"
                return "its pseudonym is spent on chain, but the relayer reports no arrival"
            kept.status, kept.reason = "late", f"not on chain after slot {kept.slot} ended"
            return kept.reason
        return ""

    def _retry(self, kept: KeptRequest, current: int) -> str:
        if self.client.epoch_of_slot(current) != kept.token.epoch:
            kept.status, kept.reason = "expired", f"its token's epoch {kept.token.epoch} is over"
            return kept.reason
        if kept.status == "late" and current <= kept.slot:
            return f"late for slot {kept.slot}: sent again once slot {kept.slot + 1} begins"
        before = kept.slot
        try:
            self._send(kept, current)
        except Unreachable:
            return kept.reason or ""
        if kept.status == "queued":
            return f"missed slot {before}: re-signed for slot {current} with the same token and sent again"
        return f"sent again for slot {current}: {kept.reason}"

    def on_chain(self, kept: KeptRequest) -> bool:
        """Whether the chain holds this very request (its fields, at its arrival number) in its slot."""
        word = pack(kept.demand_w, kept.soc_pm, kept.tcc, kept.arrival)
        return any(s.request == word for s in self.client.submissions(kept.slot))

    # -- allocations --------------------------------------------------------------------------------------
    def allocations(self, records: ChainRecords) -> list[Allocation]:
        """Each confirmed request's story over the closed slots, and each slot's verdict (the rule's or not)."""
        upto = self.client.next_slot_to_close - 1
        if upto < 0:
            return []
        verdicts = {v.slot: v for v in verify_slots(records, upto)}
        out = []
        for kept in self.state.requests:
            if kept.status != "confirmed" or kept.arrival is None:
                continue
            for slot, granted_w, status in follow(records, kept.arrival, upto):
                verdict = verdicts[slot]
                out.append(
                    Allocation(kept.number, kept.arrival, slot, granted_w, status, verdict.ok, verdict.mismatches)
                )
        return out
