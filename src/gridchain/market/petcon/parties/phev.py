"""The PHEVs' side of a PETCON auction: a buyer or seller with its private parameters, its one-auction pseudonym
key, and the loop that drives the auctioneer's service over HTTP (httpx, one connection per request).

A buyer keeps tau and STO, a seller l1 and l2, to itself: each computes its own next bids from its row (column)
of the allocation (`model.buyer_bids` / `model.seller_bids` on its slice), damped by `model.DAMPING` from the
bids the round was solved for, and discloses only c_min and c_max (buyer) or D_max and r_min (seller).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridchain.crypto.keys import address_of
from gridchain.errors import InputError, Refused
from gridchain.market.petcon import model
from gridchain.market.petcon.parties.wire import signed
from gridchain.net.server import loopback_client


@dataclass
class Phev:
    """One PHEV in one auction. Buyer: `bounds` = (c_min, c_max) [kWh], `private` = (tau, STO); seller:
    `bounds` = (D_max [kWh], r_min [$]), `private` = (l1 [$/kWh^2], l2 [$/kWh]). A fresh key per auction."""

    role: str
    pole: str
    bounds: tuple[float, float]
    private: tuple[float, float]
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    index: int = -1

    @property
    def pseudonym(self) -> str:
        return address_of(self.key)

    def join_body(self, auction: int) -> dict[str, Any]:
        names = ("c_min_kwh", "c_max_kwh") if self.role == "buyer" else ("d_max_kwh", "r_min_usd")
        body = {"auction": auction, "pole": self.pole, "role": self.role} | dict(zip(names, self.bounds, strict=True))
        return signed(self.key, body)

    def next_bids(self, c_kwh: np.ndarray, bids: np.ndarray, opening: dict[str, Any]) -> np.ndarray:
        """This PHEV's bids for the next round from its slice of the allocation, damped from `bids`."""
        eta, rho = opening["eta"], opening["rho"]
        if self.role == "buyer":
            tau, sto = self.private
            c_min, c_max = self.bounds
            m = model.Market(
                np.array([c_min]), np.array([c_max]), np.array([sto]), np.ones(1), np.zeros(1), tau, eta=eta, rho=rho
            )
            new = model.buyer_bids(m, c_kwh[None, :])[0]
        else:
            l1, l2 = self.private
            m = model.Market(np.zeros(1), np.ones(1), np.ones(1), np.ones(1), np.zeros(1), 1.0, l1, l2, eta, rho)
            new = model.seller_bids(m, c_kwh)
        a = opening["damping"]
        return (1 - a) * bids + a * new


class AuctioneerClient:
    """One PHEV's HTTP client of the auctioneer's service; a 4xx raises Refused (403) or InputError (400)
    with the service's field and reason."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self.http = loopback_client(url, timeout_s)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        # json.dumps writes NaN and Infinity (httpx's json= refuses them): the service names such a field itself
        response = self.http.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
        if response.status_code == 403:
            raise Refused(response.json()["reason"], response.json().get("field", ""))
        if response.status_code == 400:
            raise InputError(response.json().get("field", ""), response.json()["reason"])
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> dict[str, Any]:
        response = self.http.get(path)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.http.close()


def take_part(phev: Phev, url: str, poll_s: float = 0.002) -> dict[str, Any]:
    """Join the auction at `url`, then read each round's slice and post the next bids until it ends. Returns
    {"index", "rounds", "outcome"}."""
    client = AuctioneerClient(url)
    try:
        opening = client.get("/auction")["opening"]
        auction = opening["round"]
        phev.index = client.post("/join", phev.join_body(auction))["index"]
        k = 1
        while True:
            answer = client.post("/allocation", signed(phev.key, {"auction": auction, "k": k}))
            if answer["state"] == "waiting":
                time.sleep(poll_s)
                continue
            if answer["state"] == "done":
                return {"index": phev.index, "rounds": answer["k"], "outcome": answer["outcome"]}
            bids = phev.next_bids(np.array(answer["c_kwh"]), np.array(answer["bids"]), opening)
            body = {"auction": auction, "k": k, "row": phev.index, "bids": bids.tolist()}
            client.post("/bids", signed(phev.key, body))
            k += 1
    finally:
        client.close()
