"""The metering sections of gridchain.toml: `[metering]` and `[ocpp]`, and where the devices' keys live.

```toml
[metering]
notice_s = 172800             # notice before escrow can be withdrawn [s] (the contract's constructor)
community = 1                 # the tariff community of the meters registered here
meters = "meters"             # one keystore per meter (a device key: signs readings, holds no funds)
evs = "evs"                   # one keystore per EV (a device key: signs session starts, holds no funds)
min_reservation_wei = 5000000000000000  # the least maximum cost a charge point admits an EV with [wei]

[ocpp]
listen = "127.0.0.1:8720"     # the central system's websocket address (charge points connect to /<id>)
sessions = "ocpp-sessions.json"  # what the central system hands to `metering anchor` and `settle`
heartbeat_interval_s = 300
charge_points = { CP1 = "cp1" }  # charge-point id -> its meter's keystore name in [metering] meters
```

Who holds which key, and why: the operator (`[accounts] owner`) registers meters, EVs, gateways and tariffs;
the EV owner (`[accounts] ev_owner`) funds the escrow; the host (`[accounts] host`, the charge point's owner,
the roaming operator) reserves and settles sessions; the meter gateway (`[accounts] gateway`) anchors roots.
Those send transactions, so they are funded `[accounts]`. A meter's and an EV's keys are device keys that sign
EIP-712 messages and never pay gas: they live in their own folders of keystores, like the ESU wallets, one file
a device, named by the device; only their addresses are needed to register them (read without the password).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridchain.config.accounts import password
from gridchain.config.file import Config
from gridchain.crypto.keystore import keystore_address, read_keystore
from gridchain.errors import InputError
from gridchain.metering import model as m

OWNER, EV_OWNER, HOST, GATEWAY = "owner", "ev_owner", "host", "gateway"
DEFAULT_NOTICE_S = 2 * 86400
DEFAULT_MIN_RESERVATION_WEI = 5 * 10**15
MAX_WEI = 2**128 - 1


@dataclass(frozen=True)
class MeteringSettings:
    notice_s: int
    community: int
    meters_dir: Path
    evs_dir: Path
    min_reservation_wei: int

    def deploy_settings(self) -> dict:
        """What the contract is deployed from (a change needs `deploy --redeploy`)."""
        return {"notice_s": self.notice_s}


def metering(config: Config) -> MeteringSettings:
    section = config.section("metering")
    out = MeteringSettings(
        section.int("notice_s", 0, m.MAX_NOTICE_S, DEFAULT_NOTICE_S),
        section.int("community", 0, m.MAX_COMMUNITY, 1),
        section.path("meters", "meters"),
        section.path("evs", "evs"),
        section.int("min_reservation_wei", 1, MAX_WEI, DEFAULT_MIN_RESERVATION_WEI),
    )
    section.done()
    return out


@dataclass(frozen=True)
class OcppSettings:
    host: str
    port: int
    sessions_file: Path
    heartbeat_interval_s: int
    charge_points: dict[str, str]  # charge-point id -> meter name

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"


def ocpp(config: Config) -> OcppSettings:
    section = config.section("ocpp")
    host, port = section.listen("listen")
    sessions = section.path("sessions", "ocpp-sessions.json")
    heartbeat = section.int("heartbeat_interval_s", 1, 86400, 300)
    section.read.add("charge_points")
    table = section.table.get("charge_points", {})
    if not isinstance(table, dict):
        raise InputError("ocpp.charge_points", 'must be a table {CP_ID = "meter name"}')
    for cp_id, meter in table.items():
        if not cp_id or "/" in cp_id or len(cp_id) > 48:
            raise InputError(f"ocpp.charge_points.{cp_id}", "a charge-point id is 1..48 characters without '/'")
        if not isinstance(meter, str) or not meter:
            raise InputError(f"ocpp.charge_points.{cp_id}", f"{meter!r} is not a meter name")
    section.done()
    return OcppSettings(host, port, sessions, heartbeat, dict(table))


def _device(folder: Path, kind: str, name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise InputError(f"--{kind}", f"{name!r} is not a valid {kind} name (a keystore file name)")
    path = folder / f"{name}.json"
    if not path.exists():
        known = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        raise InputError(f"--{kind}", f"no keystore {str(path)!r} (this pilot has: {', '.join(known) or 'none'})")
    return path


def meter_address(config: Config, name: str) -> str:
    return keystore_address(_device(metering(config).meters_dir, "meter", name), f"--meter {name}")


def ev_address(config: Config, name: str) -> str:
    return keystore_address(_device(metering(config).evs_dir, "ev", name), f"--ev {name}")


def device_key(config: Config, kind: str, name: str) -> str:
    """A meter's or an EV's key (`kind`: meter or ev), decrypted with the keystores' password."""
    settings = metering(config)
    folder = settings.meters_dir if kind == "meter" else settings.evs_dir
    return read_keystore(_device(folder, kind, name), password(config), f"--{kind} {name}")
