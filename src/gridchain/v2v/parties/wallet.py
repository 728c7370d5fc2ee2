"""A consumer EV's record of its trades on disk: the latest receipt it signed for each access token, which is
what it settles with (the provider may be gone by then).

One JSON file per EV, rewritten atomically after every receipt (a crash leaves the old receipt or the new one,
both valid: receipts are cumulative). It holds no key; anyone who reads it learns only what the chain will.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gridchain.crypto.keystore import read_json_file, write_private
from gridchain.errors import InputError
from gridchain.v2v.client import SignedReceipt


@dataclass
class ConsumerWallet:
    path: Path
    receipts: dict[str, dict] = field(default_factory=dict)  # token hex -> {"delivered_wh", "signature"}

    @classmethod
    def load(cls, path: Path, field_name: str) -> ConsumerWallet:
        """The wallet at `path` (empty if there is none yet); an unreadable one is an InputError naming `field_name`."""
        data = read_json_file(path, field_name, "the V2V consumer wallet")
        if data is None:
            return cls(path)
        if not isinstance(data, dict) or not isinstance(data.get("receipts"), dict):
            raise InputError(field_name, f"{str(path)!r} is not a V2V consumer wallet")
        return cls(path, data["receipts"])

    def keep(self, receipt: SignedReceipt) -> None:
        """Remember `receipt` if it is above the one kept for its token; written to disk before returning."""
        key = "0x" + receipt.token.hex()
        if receipt.delivered_wh <= self.receipts.get(key, {}).get("delivered_wh", -1):
            return
        self.receipts[key] = {"delivered_wh": receipt.delivered_wh, "signature": "0x" + receipt.signature.hex()}
        write_private(self.path, json.dumps({"receipts": self.receipts}, indent=1, sort_keys=True) + "\n")

    def receipt(self, token: bytes) -> SignedReceipt | None:
        kept = self.receipts.get("0x" + token.hex())
        if kept is None:
            return None
        return SignedReceipt(token, int(kept["delivered_wh"]), bytes.fromhex(kept["signature"][2:]))
