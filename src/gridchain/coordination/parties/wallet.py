"""An ESU's wallet at work: obtains blind tokens, spends one per request through the relayer, follows each request
until the chain confirms it (re-signing one that missed its slot, with the same token, for the current slot),
and reads what the chain granted it, checked against the rule.

Plain values in (a coordinator client, the relayer's client, a `TokenWallet` with the identity key); the state
lives in a `WalletState` (the wallet's database), each change one transaction, so a crash between two steps
loses no token and no request, and commands running at once on one wallet lose nothing of each other's: a
request is claimed (`sending`) before it goes to the relayer and one whose send a crash interrupted is sent again
as it was by the next `refresh`.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass

import httpx
from eth_utils import keccak

from gridchain.coordination.anonymous.client import sign_request
from gridchain.coordination.anonymous.parties.issuer import TokenWallet
from gridchain.coordination.anonymous.parties.relayer import RelayRefused
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import CoordinatorError, check_fields, pack, unpack
from gridchain.coordination.model.verify import ChainRecords, follow, verify_slots
from gridchain.coordination.parties.wallet_state import OPEN, KeptRequest, Token, WalletState, claim_is_live
from gridchain.errors import InputError

NO_KEY = b"\x00" * 32
CRASH_AT = "GRIDCHAIN_TEST_CRASH_AT"  # a test hook: the crash point (e.g. wallet.after_post) to SIGKILL us at


def crash_point(name: str) -> None:
    """For crash tests only: SIGKILL this process here if $GRIDCHAIN_TEST_CRASH_AT names this point."""
    if os.environ.get(CRASH_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


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
        chain_id = self.client.chain_id()

        def sign(token: Token) -> str:
            return self._signed(chain_id, token, slot, demand_w, soc_pm, tcc)

        # the token now travels with its request, claimed for sending: a crash below loses neither
        kept = self.state.take(self.community, epoch, demand_w, soc_pm, tcc, slot, sign)
        if kept is None:
            raise InputError("--wallet", f"no unused token for epoch {epoch}: run `gridchain esu tokens`")
        self._post(kept)
        return kept

    def _signed(self, chain_id: int, t: Token, slot: int, demand_w: int, soc_pm: int, tcc: int) -> str:
        """The request signed for `slot` with the token's pseudonym, as the JSON the relayer takes."""
        key = bytes.fromhex(t.key[2:])
        signed = sign_request(key, chain_id, self.community, t.epoch, slot, demand_w, soc_pm, tcc, int(t.token, 16))
        return json.dumps(signed.to_json())

    def _send(self, kept: KeptRequest, slot: int) -> bool:
        """Sign `kept` for `slot`, claim it and send it; False if another command changed it first."""
        body = self._signed(self.client.chain_id(), kept.token, slot, kept.demand_w, kept.soc_pm, kept.tcc)
        if not self.state.claim(kept, body, slot):
            return False
        self._post(kept)
        return True

    def _post(self, kept: KeptRequest) -> None:
        """Hand `kept`'s claimed body to the relayer and record what it answered (raises Unreachable when it
        cannot be reached: kept `unsent`). A relayer that says the pseudonym is used already has it (or the chain
        has): an earlier send whose answer was lost in a crash; it is followed by its pseudonym."""
        crash_point("wallet.before_post")
        try:
            kept.ticket, kept.status = self.relayer.send(json.loads(kept.body))["id"], "queued"
            crash_point("wallet.after_post")
        except RelayRefused as e:
            if not e.field:  # the relayer cannot read the chain (503): not this request's fault
                kept.status, kept.reason = "unsent", e.reason
            elif e.field == "pseudonym":
                kept.status, kept.reason = "queued", f"sent before: {e.reason} (followed by its pseudonym)"
            else:
                kept.status = "late" if e.field == "slot" else "failed"
                kept.reason = f"{e.field}: {e.reason}"
        except (httpx.TransportError, OSError) as e:  # kept: `refresh` sends it again
            kept.status, kept.reason = "unsent", f"the relayer cannot be reached: {e}"
        kept.claimed_by = kept.claimed_ms = None
        self.state.record(kept)
        if kept.status == "unsent":
            raise Unreachable(kept.reason)

    # -- following ----------------------------------------------------------------------------------------
    def refresh(self, retry: bool = True) -> list[tuple[KeptRequest, str]]:
        """Follow every open request: ask the relayer, confirm a submitted one against the chain, and (unless
        not `retry`) send again, for the current slot with the same token, one that missed its slot or was never
        sent, and as it was one whose send a crash interrupted. Each request is read fresh and written back only
        if no other command changed it meanwhile. Returns each open request with a note on what happened now."""
        current = self.current_slot()
        out = []
        # those without a ticket last: one found on chain by its pseudonym excludes the arrivals of the others
        for number in [
            r.number for r in sorted(self.state.requests, key=lambda r: r.ticket is None) if r.status in OPEN
        ]:
            kept = self.state.request(number)
            if kept.status not in OPEN:
                continue
            if kept.status == "sending":
                note = self._resume(kept, retry)
            else:
                note = self._follow(kept, current)
                if kept.status in ("late", "unsent", "new") and retry:
                    note = self._retry(kept, current) or note
            out.append((kept, note))
        return sorted(out, key=lambda kn: kn[0].number)

    def _resume(self, kept: KeptRequest, retry: bool) -> str:
        """A request found `sending`: another command's send in progress, or a crashed one, sent again as is."""
        if claim_is_live(kept):
            return "being sent by another command"
        if not retry:
            return "its send was interrupted: `esu status` sends it again"
        if not self.state.claim(kept, kept.body, kept.slot, signed_now=False):
            return "changed by another command"
        try:
            self._post(kept)
        except Unreachable:
            return kept.reason or ""
        return f"its send was interrupted: sent again as it was: {kept.status}"

    def _follow(self, kept: KeptRequest, current: int) -> str:
        if kept.status not in ("queued", "submitted"):
            return ""
        if kept.ticket is None:  # the relayer's answer was lost: the chain tells (the pseudonym spent or not)
            ticket = {"status": "unknown"}
        else:
            try:
                ticket = self.relayer.status(kept.ticket)
            except (httpx.TransportError, OSError) as e:
                return f"the relayer cannot be reached: {e}"
            except httpx.HTTPStatusError:  # an unknown ticket (the relayer restarted): the chain decides
                ticket = {"status": "unknown", "reason": "the relayer does not know the ticket"}
        before = dict(vars(kept))
        note = self._settle(kept, ticket, current)
        if vars(kept) != before and not self.state.record(kept):
            return "changed by another command"
        return note

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
        if kept.ticket is None or current > kept.slot:  # no ticket, or queued/unknown after its slot
            if self.client.spent(kept.token.address):
                return self._found_by_pseudonym(kept)
            if current > kept.slot:
                kept.status, kept.reason = "late", f"not on chain after slot {kept.slot} ended"
                return kept.reason
        return ""

    def _found_by_pseudonym(self, kept: KeptRequest) -> str:
        """Its pseudonym is spent on chain: this request is there. Its arrival is the one submission of its slot
        with its fields that no other request of this wallet holds; confirmed if there is exactly one."""
        others = {a for number, a in self.state.arrivals().items() if number != kept.number}
        fields = (kept.demand_w, kept.soc_pm, kept.tcc)
        found = [
            u.arrival
            for u in (unpack(s.request) for s in self.client.submissions(kept.slot))
            if (u.demand_w, u.soc_pm, u.tcc) == fields and u.arrival not in others
        ]
        if len(found) == 1:
            kept.status, kept.arrival = "confirmed", found[0]
            return f"confirmed on chain in slot {kept.slot} (found by its pseudonym)"
        kept.status = "submitted"
        return "its pseudonym is spent on chain, but the relayer reports no arrival"

    def _retry(self, kept: KeptRequest, current: int) -> str:
        if self.client.epoch_of_slot(current) != kept.token.epoch:
            kept.status, kept.reason = "expired", f"its token's epoch {kept.token.epoch} is over"
            return kept.reason if self.state.record(kept) else "changed by another command"
        if kept.status == "late" and current <= kept.slot:
            return f"late for slot {kept.slot}: sent again once slot {kept.slot + 1} begins"
        before = kept.slot
        try:
            if not self._send(kept, current):
                return "changed by another command"
        except Unreachable:
            return kept.reason or ""
        if kept.status == "queued" and kept.ticket is not None:
            return f"missed slot {before}: re-signed for slot {current} with the same token and sent again"
        return f"sent again for slot {current}: {kept.reason}"

    def on_chain(self, kept: KeptRequest) -> bool:
        """Whether the chain holds this very request (its fields, at its arrival number) in its slot."""
        word = pack(kept.demand_w, kept.soc_pm, kept.tcc, kept.arrival)
        return any(s.request == word for s in self.client.submissions(kept.slot))

    # -- allocations --------------------------------------------------------------------------------------
    def allocations(self, records: ChainRecords) -> list[Allocation]:
        """Each confirmed request's story over the closed slots, and each slot's verdict (the rule's or not)."""
        upto = -1  # the last slot of the closed run 0..upto in what was read (a keeper may close more meanwhile)
        while upto + 1 in records.closed:
            upto += 1
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
