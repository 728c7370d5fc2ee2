"""JSON-RPC to any EVM node through web3.py, with transactions signed locally (no node-held keys)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound, Web3RPCError

from gridchain.chain.compiler import Artifact
from gridchain.chain.gateway import (
    TX_GAS_CAP,
    Call,
    ChainRevert,
    Event,
    Header,
    NotSent,
    Receipt,
    checksum,
    decode_input,
    decode_log,
    decode_result,
    encode_call,
    encode_deploy,
    event_topic,
    revert_reason,
)
from gridchain.chain.signing import Signer
from gridchain.errors import InputError

PRIORITY_FEE = 10**9
GAS_HEADROOM = 30_000
"""Gas added to the estimate (and a fifth of it): with interval mining a transaction estimated in one slot may
run in the next, where it is the slot's first and writes a fresh storage word (+17,100 gas, measured: estimated
34,947, needed 52,023). Only the gas used is paid. The same margin lets one estimate serve every later call
of a function with calldata of the same length (`RpcGateway.gas_limit`), where a call that writes a fresh word
(a coin's new holder; before issue 22's ring of submit chains, a slot's first submission) is the dearest."""
FEE_PERIOD_S = 1.0  # how long a base fee read from the latest block is used (the fee cap is twice it)
BATCH_SIZE = 200  # JSON-RPC requests per HTTP POST
IN_FLIGHT = 1_000
"""Calls `transact_many` has in the node's pool at once: anvil 1.7.1 left most of 10,000 of one sender's
transactions unmined (7,789 after 120 s, the gas report's slot of 10,000 requests), and a receipt round over
thousands of pending hashes is slow; 1,000 keeps the pipeline full (a block holds ~850 submissions)."""
POLL_S = 0.002  # between two rounds of receipt requests, doubled after each round that found none ...
POLL_MAX_S = 0.1  # ... up to this (a node with 12-second blocks is asked ~10 times a second, not 500)
STALL_S = 0.25  # receipts that long without one more mined: see RpcGateway._wait


def _reason(error: Exception) -> str:
    return _answer_reason(str(getattr(error, "message", None) or error), getattr(error, "data", None))


def _answer_reason(message: str, data: object) -> str:
    """A revert's reason from a JSON-RPC error's message and data (the revert's bytes when the node gave them)."""
    if isinstance(data, str) and data.startswith("0x"):
        return revert_reason(bytes.fromhex(data[2:]))
    return message.removeprefix("execution reverted: ").strip("'\"")


@dataclass
class _Signed:
    """A transaction of a `transact_many` batch, signed: which call it is, and what the node was sent."""

    index: int
    sender: str
    tx: dict[str, Any]
    raw: bytes
    hash: str


def unreachable_reason(error: Exception) -> str:
    """Why a node could not be asked anything, in a few words (`connection refused`, `timed out`, `name not
    known`, `not a JSON-RPC answer`): the HTTP library's own text is a 200-character pool report."""
    import requests

    text = str(error)
    if isinstance(error, requests.Timeout) or "timed out" in text:
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        if "Connection refused" in text:
            return "connection refused"
        if "resolve" in text or "Name or service not known" in text or "nodename nor servname" in text:
            return "name not known"
        if "SSL" in text or "certificate" in text:
            return "TLS handshake failed"
        return "connection failed"
    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(error, requests.HTTPError) and status:  # a 404, or a provider wanting an API key (401, 403)
        return f"not a JSON-RPC answer (HTTP {status})"
    if isinstance(error, (ValueError, requests.HTTPError, Web3RPCError)):  # an HTML page, an error object
        return "not a JSON-RPC answer"
    return (text.splitlines()[0] if text else type(error).__name__)[:80]


def reach(url: str, private_keys: Sequence[str], field: str, timeout: float = 120.0) -> RpcGateway:
    """A gateway to the node at `url` (its chain id asked once); a node that does not answer is an InputError
    naming `field` with `unreachable_reason`'s few words. The keys must be valid already."""
    try:
        return RpcGateway(url, private_keys, timeout)
    except Exception as e:  # refused connection, DNS, a timeout, not JSON-RPC
        raise InputError(field, f"cannot reach an EVM node at {url!r}: {unreachable_reason(e)}") from None


class RpcGateway:
    kind = "rpc"

    def __init__(self, url: str, private_keys: Sequence[str], timeout: float = 120.0) -> None:
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        self.url = url
        self._signers = {a.address: a for a in (Account.from_key(k) for k in private_keys)}
        self.accounts = list(self._signers)
        self.chain_id = self.w3.eth.chain_id
        self._nonces: dict[str, int] = {}
        self._timeout = timeout
        self._limits: dict[tuple[bytes, bytes, int], int] = {}  # (code hash, selector, calldata length) -> gas
        self._code_hashes: dict[str, bytes] = {}
        self._anvil: bool | None = None  # whether the node is anvil (asked at the first stall)
        self._fast: dict[str, Signer] = {}  # address -> its key, for transact_many
        self._base_fee: tuple[float, int] | None = None  # (when read, base fee [wei])

    def _signer(self, sender: str):
        signer = self._signers.get(checksum(sender))
        if signer is None:
            raise ValueError(f"no key for account {sender}")
        return signer

    def _fees(self, fresh: bool = False) -> dict[str, int]:
        """EIP-1559 fee fields from the latest block's base fee, read at most once per FEE_PERIOD_S (or now)."""
        if fresh or self._base_fee is None or time.monotonic() - self._base_fee[0] > FEE_PERIOD_S:
            self._base_fee = (time.monotonic(), int(self.w3.eth.get_block("latest")["baseFeePerGas"]))
        return {"maxPriorityFeePerGas": PRIORITY_FEE, "maxFeePerGas": 2 * self._base_fee[1] + PRIORITY_FEE}

    def _key(self, to: str | None, data: bytes) -> tuple[bytes, bytes, int] | None:
        """What a gas limit is cached under: the code at `to` (its hash), the selector, the calldata's length."""
        if to is None:
            return None  # a creation: estimated each time
        if to not in self._code_hashes:
            self._code_hashes[to] = keccak(bytes(self.w3.eth.get_code(to)))
        return self._code_hashes[to], data[:4], len(data)

    def _estimate(self, tx: dict[str, Any]) -> int:
        """The gas limit for `tx` from one estimate (a call that would revert raises ChainRevert), with the
        headroom GAS_HEADROOM explains; the largest one seen for its key is kept for `gas_limit`."""
        try:
            gas = self.w3.eth.estimate_gas(tx)
        except (ContractLogicError, Web3RPCError) as e:
            raise ChainRevert(_reason(e)) from None
        limit = min(TX_GAS_CAP, gas + gas // 5 + GAS_HEADROOM)
        key = self._key(tx.get("to"), bytes(tx["data"]))
        if key is not None:
            self._limits[key] = max(limit, self._limits.get(key, 0))
        return limit

    def gas_limit(self, sender: str, to: str, data: bytes, value: int = 0) -> int:
        """The gas limit of a call: the cached one of its code, function and calldata length, else one estimate
        (which raises ChainRevert if this call would revert now)."""
        to = Web3.to_checksum_address(to)
        limit = self._limits.get(self._key(to, data))  # type: ignore[arg-type]
        if limit is None:
            limit = self._estimate({"from": sender, "to": to, "data": data, "value": value})
        return limit

    def _prepare(self, signer, to: str | None, data: bytes, value: int, nonce: int) -> dict[str, Any]:
        """The transaction to sign: gas estimated (a call that would revert raises ChainRevert, and nothing is
        signed), EIP-1559 fees from a recent block."""
        tx: dict[str, Any] = {"from": signer.address, "data": data, "value": value, "chainId": self.chain_id}
        if to is not None:
            tx["to"] = Web3.to_checksum_address(to)
        tx |= {"gas": self._estimate(tx), "nonce": nonce, "type": 2} | self._fees()
        del tx["from"]
        return tx

    def _send(self, sender: str, to: str | None, data: bytes, artifact: Artifact | None, value: int = 0) -> Receipt:
        signer = self._signer(sender)
        if signer.address not in self._nonces:
            self._nonces[signer.address] = self.nonce(signer.address, "pending")
        tx = self._prepare(signer, to, data, value, self._nonces[signer.address])
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
            self._nonces[signer.address] += 1
            # as transact_many's: polled every POLL_S (a development node mines at once), and anvil's automine
            # nudged if it stalls (on a loaded machine it was seen mining empty blocks with this one ready)
            sent = HexBytes(tx_hash).to_0x_hex()
            receipt = self._wait([sent])[sent]
        except Exception:
            # the node went away or the receipt never came: a restarted node may have lost the transaction from
            # its pool, and a nonce counted past it would leave a gap that stalls every later one; ask the node
            self._nonces.pop(signer.address, None)
            self._base_fee = None
            raise
        if receipt["status"] != 1:
            why = " (out of gas at the per-transaction cap)" if receipt["gasUsed"] >= tx["gas"] else ""
            raise ChainRevert(f"transaction 0x{bytes(tx_hash).hex()} failed on chain (status 0){why}")
        return _receipt(artifact, receipt)

    # -- many transactions at once: signed here, sent in JSON-RPC batches, then their receipts ---------------
    def transact_many(self, calls: Sequence[Call]) -> list[Receipt | ChainRevert]:
        """Sign every call (gas limit its own `gas`, capped at TX_GAS_CAP, else from `gas_limit`: a call estimated
        now, as its function's first, that would revert is reported and not sent; fees read once), send them all in
        JSON-RPC batches, then ask for their receipts in batches until every one is mined. A call that reverted on
        chain is reported with the reason an eth_call of it at its block gives; one the node refused as NotSent,
        and the sender's later ones still run: the nonce is read again and any gap filled with an empty transfer
        to itself. At most IN_FLIGHT calls are in the node's pool at once: the next ones are sent when their
        receipts are in."""
        out: list[Receipt | ChainRevert] = []
        for start in range(0, len(calls), IN_FLIGHT):
            out += self._transact_chunk(calls[start : start + IN_FLIGHT])
        return out

    def _transact_chunk(self, calls: Sequence[Call]) -> list[Receipt | ChainRevert]:
        """`transact_many` for at most IN_FLIGHT calls."""
        out: list[Receipt | ChainRevert | None] = [None] * len(calls)
        fees = self._fees(fresh=True)
        signed: list[_Signed] = []
        try:
            self._read_nonces({checksum(c.sender) for c in calls})
            for i, c in enumerate(calls):
                signer, to, data = self._signer(c.sender), checksum(c.address), c.data()
                try:
                    gas = self.gas_limit(signer.address, to, data, c.value) if c.gas is None else min(TX_GAS_CAP, c.gas)
                except ChainRevert as e:
                    out[i] = e
                    continue
                tx = {"to": to, "data": data, "value": c.value, "gas": gas, "nonce": self._next_nonce(signer.address)}
                signed.append(self._sign(i, signer, tx | fees))
            answers = self._batch([("eth_sendRawTransaction", ["0x" + s.raw.hex()]) for s in signed])
            sent, refused = [], set()
            for s, answer in zip(signed, answers):
                error = answer.get("error")
                if error is None or _already_known(str(error.get("message", ""))):
                    sent.append(s)
                else:
                    out[s.index] = NotSent(f"not sent: {error.get('message', error)}")
                    refused.add(s.sender)
            fillers = [f for sender in refused for f in self._mend_nonce(sender, sent, fees)]
            receipts = self._wait([s.hash for s in sent + fillers])
        except Exception:
            for s in signed:  # as in _send: the node's count is the truth after a failure
                self._nonces.pop(s.sender, None)
            self._base_fee = None
            raise
        for s in sent:
            found = receipts[s.hash]
            artifact = calls[s.index].artifact
            out[s.index] = _receipt(artifact, found) if found["status"] == 1 else self._failed(s, found)
        return out  # type: ignore[return-value]  # every entry is set

    def send_raw_many(self, raws: Sequence[bytes]) -> list[str | NotSent]:
        """Broadcast signed transactions in JSON-RPC batches: per transaction its hash (one the node holds already
        counts as sent) or NotSent with the node's reason. Their nonces are the signer's: after a NotSent, later
        ones of the same sender wait in the node's pool until the gap is filled."""
        answers = self._batch([("eth_sendRawTransaction", ["0x" + bytes(raw).hex()]) for raw in raws])
        out: list[str | NotSent] = []
        for raw, answer in zip(raws, answers):
            error = answer.get("error")
            if error is None or _already_known(str(error.get("message", ""))):
                out.append("0x" + keccak(bytes(raw)).hex())
            else:
                out.append(NotSent(f"not sent: {error.get('message', error)}"))
        return out

    def receipts_of(self, artifact: Artifact | None, hashes: Sequence[str]) -> list[Receipt]:
        """The receipts of sent transactions (`status` 0: reverted), asked for in JSON-RPC batches until every one
        is mined; TimeoutError after the gateway's timeout."""
        found = self._wait(list(hashes))
        return [_receipt(artifact, found[h]) for h in hashes]

    def mined(self, artifact: Artifact | None, hashes: Sequence[str]) -> list[Receipt | None]:
        """The receipts of these transactions as the node has them now (None: not mined), in one JSON-RPC batch."""
        out: list[Receipt | None] = []
        for h, answer in zip(hashes, self._batch([("eth_getTransactionReceipt", [h]) for h in hashes])):
            if "error" in answer:
                raise Web3RPCError(f"receipt of {h}: {answer['error']}")
            out.append(_receipt(artifact, _from_json(answer["result"])) if answer.get("result") else None)
        return out

    def _read_nonces(self, senders: set[str]) -> None:
        """The pending nonces of the senders not counted here yet, in one batch."""
        unknown = sorted(s for s in senders if s not in self._nonces)
        answers = self._batch([("eth_getTransactionCount", [s, "pending"]) for s in unknown])
        for sender, answer in zip(unknown, answers):
            if "error" in answer:
                raise Web3RPCError(f"nonce of {sender}: {answer['error']}")
            self._nonces[sender] = int(answer["result"], 16)

    def _next_nonce(self, sender: str) -> int:
        if sender not in self._nonces:
            self._nonces[sender] = self.nonce(sender, "pending")
        self._nonces[sender] += 1
        return self._nonces[sender] - 1

    def _sign(self, index: int, signer, tx: dict[str, Any]) -> _Signed:
        fast = self._fast.get(signer.address)
        if fast is None:
            fast = self._fast[signer.address] = Signer(bytes(signer.key))
        raw, tx_hash = fast.sign(tx | {"chainId": self.chain_id})
        return _Signed(index, signer.address, tx, raw, "0x" + tx_hash.hex())

    def _batch(self, requests: list[tuple[str, list]]) -> list[dict]:
        """The node's answers ({"result": ...} or {"error": ...}) to JSON-RPC requests sent BATCH_SIZE a POST."""
        answers: list[dict] = []
        for i in range(0, len(requests), BATCH_SIZE):
            got = self.w3.provider.make_batch_request(requests[i : i + BATCH_SIZE])  # type: ignore[attr-defined]
            if not isinstance(got, list):  # the node refused the batch as a whole
                raise Web3RPCError(f"the node refused a JSON-RPC batch: {dict(got).get('error', got)}")
            answers += [dict(a) for a in got]
        return answers

    def _mend_nonce(self, sender: str, sent: list[_Signed], fees: dict[str, int]) -> list[_Signed]:
        """After the node refused some of `sender`'s transactions: its nonce read again, and each nonce between
        it and the last one the node took that has no transaction filled with an empty transfer to itself
        (else the later ones would wait in its pool for ever). The fillers, sent."""
        taken = {s.tx["nonce"] for s in sent if s.sender == sender}
        first = self.nonce(sender, "pending")
        signer = self._signer(sender)
        fillers = [
            self._sign(-1, signer, {"to": sender, "data": b"", "value": 0, "gas": 21_000, "nonce": k} | fees)
            for k in range(first, max(taken, default=-1) + 1)
            if k not in taken
        ]
        for f, answer in zip(fillers, self._batch([("eth_sendRawTransaction", ["0x" + f.raw.hex()]) for f in fillers])):
            if "error" in answer and not _already_known(str(answer["error"].get("message", ""))):
                raise Web3RPCError(f"nonce {f.tx['nonce']} of {sender} left a gap: {answer['error']}")
        self._nonces[sender] = max(first, max(taken, default=-1) + 1)
        return fillers

    def _wait(self, hashes: list[str]) -> dict[str, dict]:
        """The receipts (decoded from JSON) of sent transactions, asked for in batches until all are mined."""
        found: dict[str, dict] = {}
        missing, deadline, progress = list(hashes), time.monotonic() + self._timeout, time.monotonic()
        delay = POLL_S
        while missing:
            for h, answer in zip(missing, self._batch([("eth_getTransactionReceipt", [h]) for h in missing])):
                if "error" in answer:
                    raise Web3RPCError(f"receipt of {h}: {answer['error']}")
                if answer.get("result"):
                    found[h] = _from_json(answer["result"])
            if len(missing) > len(still := [h for h in missing if h not in found]):
                progress, delay = time.monotonic(), POLL_S
            missing = still
            if missing and time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(missing)} transactions (first {missing[0]}) not in the chain after {self._timeout} s"
                )
            if missing and time.monotonic() - progress > STALL_S and self._mines_on_arrival():
                # anvil's automine mines when a transaction arrives, as many as fit a block: those that did not
                # fit wait for the next arrival (foundry-rs/foundry#10122); ask it for a block instead. Under load
                # anvil 1.7.1 was also seen mining empty blocks for seconds with a ready transaction in its pool
                # (after a block of the close's pages, asked for as above): a block asked for includes it
                self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
                progress = time.monotonic()
            if missing:
                time.sleep(delay)
                delay = min(2 * delay, POLL_MAX_S)
        return found

    def _mines_on_arrival(self) -> bool:
        """Whether the node is anvil mining each block when transactions arrive (automine): whether it is anvil is
        asked once, its mining mode each time (a stall is rare, and a test may switch automine off)."""
        if self._anvil is None:
            try:
                self._anvil = str(self.w3.client_version).startswith("anvil")
            except Exception:  # noqa: BLE001 - a node that does not say is not anvil
                self._anvil = False
        if not self._anvil:
            return False
        try:
            return bool(self.w3.provider.make_request("anvil_getAutomine", []).get("result"))  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - asked again at the next stall
            return False

    def _failed(self, s: _Signed, receipt: dict) -> ChainRevert:
        """Why a mined transaction reverted: out of gas (its cached gas limit is dropped), else the reason an
        eth_call of it at its block gives."""
        tx = s.tx
        if receipt["gasUsed"] >= tx["gas"]:
            self._limits.pop(self._key(tx["to"], tx["data"]), None)  # type: ignore[arg-type]
            error = ChainRevert(f"out of gas (gas limit {tx['gas']})")
        else:
            call = {
                "from": s.sender,
                "to": tx["to"],
                "data": "0x" + tx["data"].hex(),
                "value": hex(tx["value"]),
                "gas": hex(tx["gas"]),
            }
            answer = self._batch([("eth_call", [call, hex(receipt["blockNumber"])])])[0]
            error = answer.get("error")
            reason = (
                "failed on chain (status 0)"
                if error is None
                else _answer_reason(str(error.get("message", "")), error.get("data"))
            )
            error = ChainRevert(reason)
        error.tx_hash = s.hash  # type: ignore[attr-defined]
        return error

    # -- transactions signed here and sent later (the relayer persists them in between) --------------------
    def sign(self, sender: str, to: str, data: bytes, nonce: int) -> tuple[bytes, str]:
        """A call to `to` signed by `sender` with this explicit nonce, not sent: (raw transaction, its hash). Its
        gas limit is `gas_limit`'s: the call is estimated (ChainRevert if it would revert now, and nothing is
        signed) only as the first of its function and calldata length; callers that must not pay for a revert
        simulate it first (the relayer runs each batch as an eth_call)."""
        signer = self._signer(sender)
        to = checksum(to)
        tx = {"to": to, "data": data, "value": 0, "gas": self.gas_limit(signer.address, to, data), "nonce": nonce}
        signed = self._sign(-1, signer, tx | self._fees())
        return signed.raw, signed.hash

    def send_raw(self, raw: bytes) -> str:
        """Broadcast a signed transaction; one the node holds already counts as sent. Its hash."""
        try:
            return "0x" + bytes(self.w3.eth.send_raw_transaction(raw)).hex()
        except Web3RPCError as e:
            if _already_known(str(e)):
                return "0x" + bytes(keccak(raw)).hex()
            raise

    def receipt(self, artifact: Artifact | None, tx_hash: str) -> Receipt | None:
        """The receipt of a mined transaction (its `status` 0 if it reverted), or None if none is mined."""
        try:
            found = self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        return _receipt(artifact, found)

    def known(self, tx_hash: str) -> bool:
        """Whether the node has the transaction at all (pending in its pool, or mined)."""
        try:
            return self.w3.eth.get_transaction(tx_hash) is not None
        except TransactionNotFound:
            return False

    def forget_nonce(self, sender: str) -> None:
        """Ask the chain for `sender`'s nonce at its next transaction: a reorganisation dropped one counted here,
        and a nonce past the chain's would leave the next transaction in the pool for ever."""
        self._nonces.pop(Web3.to_checksum_address(sender), None)

    def nonce(self, address: str, block: str = "pending") -> int:
        """The account's transaction count at `block` ("latest": mined; "pending": the pool's too)."""
        return int(self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), block))

    def deploy(self, artifact: Artifact, args: Sequence[Any], sender: str) -> Receipt:
        return self._send(sender, None, encode_deploy(artifact, args), artifact)

    def transact(
        self, artifact: Artifact, address: str, fn: str, args: Sequence[Any], sender: str, value: int = 0
    ) -> Receipt:
        return self._send(sender, address, encode_call(artifact, fn, args), artifact, value)

    def balance(self, address: str) -> int:
        return int(self.w3.eth.get_balance(Web3.to_checksum_address(address)))

    def code(self, address: str) -> bytes:
        """The runtime code at `address` (empty: no contract there)."""
        return bytes(self.w3.eth.get_code(Web3.to_checksum_address(address)))

    def transfer(self, sender: str, to: str, value: int) -> Receipt:
        """Send `value` wei from `sender` to `to` (an account: no call data)."""
        return self._send(sender, to, b"", None, value)

    def call(self, artifact: Artifact, address: str, fn: str, args: Sequence[Any] = ()) -> Any:
        try:
            out = self.w3.eth.call({"to": Web3.to_checksum_address(address), "data": encode_call(artifact, fn, args)})
        except (ContractLogicError, Web3RPCError) as e:
            raise ChainRevert(_reason(e)) from None
        return decode_result(artifact, fn, len(args), bytes(out))

    def events(
        self, artifact: Artifact, address: str, name: str, from_block: int = 0, to_block: int | None = None
    ) -> list[Event]:
        return self.logs(artifact, address, [name], from_block, self.block_number() if to_block is None else to_block)

    def logs(
        self, artifact: Artifact, address: str, names: Sequence[str], from_block: int, to_block: int
    ) -> list[Event]:
        logs = self.w3.eth.get_logs(
            {
                "address": Web3.to_checksum_address(address),
                "fromBlock": from_block,
                "toBlock": to_block,
                "topics": [["0x" + event_topic(artifact, name).hex() for name in names]],
            }
        )
        return [_decode(artifact, log) for log in logs]

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def block_hash(self, number: int) -> str | None:
        try:
            block = self.w3.eth.get_block(number)
        except BlockNotFound:
            return None
        return "0x" + bytes(block["hash"]).hex()

    def header(self, number: int) -> Header | None:
        try:
            block = self.w3.eth.get_block(number)
        except BlockNotFound:
            return None
        parent = "0x" + bytes(block["parentHash"]).hex()
        return Header(number, "0x" + bytes(block["hash"]).hex(), parent, int(block["timestamp"]))

    def transaction_input(self, artifact: Artifact, tx_hash: str) -> tuple[str, dict[str, Any]]:
        return decode_input(artifact, bytes(self.w3.eth.get_transaction(tx_hash)["input"]))

    def transaction_to(self, tx_hash: str) -> str | None:
        to = self.w3.eth.get_transaction(tx_hash)["to"]
        return None if to is None else Web3.to_checksum_address(to)

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance_time(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])
        self.w3.provider.make_request("evm_mine", [])


def _receipt(artifact: Artifact | None, receipt: Any) -> Receipt:
    logs = receipt["logs"] if artifact is not None else []
    events = tuple(e for e in (_decode(artifact, log) for log in logs) if e is not None)
    return Receipt(
        "0x" + bytes(receipt["transactionHash"]).hex(),
        receipt["blockNumber"],
        receipt["gasUsed"],
        events,
        receipt["contractAddress"],
        int(receipt["status"]),
    )


def _already_known(message: str) -> bool:
    """Whether a node refused a raw transaction only because it has it already."""
    return "already known" in message or "already imported" in message


def _from_json(raw: dict) -> dict[str, Any]:
    """A receipt as a JSON-RPC answer gives it (hex strings) in the form web3.py returns (ints, bytes)."""
    logs = [
        {
            "address": log["address"],
            "topics": [HexBytes(t) for t in log["topics"]],
            "data": HexBytes(log["data"]),
            "blockNumber": int(log["blockNumber"], 16),
            "transactionHash": HexBytes(log["transactionHash"]),
            "logIndex": int(log["logIndex"], 16),
            "blockHash": HexBytes(log["blockHash"]),
        }
        for log in raw["logs"]
    ]
    created = raw.get("contractAddress")
    return {
        "transactionHash": HexBytes(raw["transactionHash"]),
        "blockNumber": int(raw["blockNumber"], 16),
        "gasUsed": int(raw["gasUsed"], 16),
        "logs": logs,
        "contractAddress": Web3.to_checksum_address(created) if created else None,
        "status": int(raw["status"], 16),
    }


def ping(url: str, timeout_s: float = 2.0) -> str | None:
    """Whether the node at `url` answers a cheap call (eth_blockNumber) within `timeout_s`: None if it does,
    else why not in a few words (for /health, which must not hang on a node that is away)."""
    import requests

    try:
        answer = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, timeout=timeout_s
        )
        answer.raise_for_status()
        if "result" not in answer.json():
            return "not a JSON-RPC answer"
    except Exception as e:  # noqa: BLE001 - whatever it is, the node is not reachable
        return unreachable_reason(e)
    return None


def _decode(artifact: Artifact, log: Any) -> Event | None:
    """A JSON-RPC log as an Event of `artifact` (None: not one of its events)."""
    tx_hash = "0x" + bytes(log["transactionHash"]).hex()
    block_hash = "0x" + bytes(log["blockHash"]).hex()
    return decode_log(
        artifact, log["address"], log["topics"], log["data"], log["blockNumber"], tx_hash, log["logIndex"], block_hash
    )
