"""The charge-point operator's bridge from gridchain.toml: the `[bridge]` section, what `gridchain init` writes for
it, and `open_bridge`, the hook `gridchain ocpp serve` runs it by (the root CLI hands it over: metering's cli
does not import coordination's).

```toml
[bridge]
enabled = false               # run the bridge inside `gridchain ocpp serve`
wallets = { CP1 = "cp1" }     # charge-point id -> its wallet (a folder of esu.wallets, a member)
demand_w = 7400               # the stated need, when the EV tells nothing: power wanted [W]
soc_pm = 500                  #   its state of charge [per-mille] when no MeterValues carries the SoC
tcc = 4                       #   slots until charging must be complete
soc_wait_s = 5                # how long after StartTransaction a MeterValues with the SoC is waited for [s]
poll_s = 1                    # how often requests are followed and closes read [s]
```

The bridge also reads `[esu]` (the wallets folder, the utility's and the relayer's URLs) and `[community]` (the
token quota and look-ahead), and the deployment's coordinator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gridchain.config.file import Config
from gridchain.config.init import InitOptions
from gridchain.coordination.cli.esu_config import IDENTITY, WALLET_NAME
from gridchain.coordination.model.request import POWER_MAX_W, SOC_PM_MAX, TCC_MAX
from gridchain.errors import InputError

BRIDGE_WALLET = "cp1"  # the wallet `gridchain init` makes for charge point CP1


@dataclass(frozen=True)
class BridgeSettings:
    enabled: bool
    wallets: dict[str, str]  # charge-point id -> wallet name
    demand_w: int
    soc_pm: int
    tcc: int
    soc_wait_s: float
    poll_s: float


def bridge_settings(config: Config) -> BridgeSettings:
    section = config.section("bridge")
    enabled = section.bool("enabled", False)
    section.read.add("wallets")
    table = section.table.get("wallets", {})
    if not isinstance(table, dict):
        raise InputError("bridge.wallets", 'must be a table {CP_ID = "wallet name"}')
    for cp_id, name in table.items():
        if not isinstance(name, str) or not WALLET_NAME.fullmatch(name):
            raise InputError(f"bridge.wallets.{cp_id}", f"{name!r} is not a wallet name (letters, digits, _ . -)")
    settings = BridgeSettings(
        enabled,
        dict(table),
        section.int("demand_w", 1, POWER_MAX_W, 7400),
        section.int("soc_pm", 0, SOC_PM_MAX, 500),
        section.int("tcc", 1, TCC_MAX, 4),
        section.float("soc_wait_s", 0, 600, 5),
        section.float("poll_s", 0.1, 60, 1),
    )
    section.done()
    return settings


def init_bridge(opts: InitOptions) -> str:
    """Charge point CP1's wallet (an identity keystore, admitted as a member) and the `[bridge]` section, off."""
    address = opts.keystore(f"wallets/{BRIDGE_WALLET}/identity.json")
    with (opts.dir / "members.txt").open("a") as members:
        members.write(f"# charge point CP1's bridge wallet ({BRIDGE_WALLET})\n{address}\n")
    return f"""
[bridge]
enabled = false               # run the charge-point bridge inside `gridchain ocpp serve`
wallets = {{ CP1 = "{BRIDGE_WALLET}" }}     # charge-point id -> its wallet in esu.wallets (a member)
demand_w = 7400               # the stated need when the EV tells nothing: power [W],
soc_pm = 500                  #   state of charge [per-mille] (when no MeterValues carries the SoC),
tcc = 4                       #   slots until charging must be complete
soc_wait_s = 5                # [s] after StartTransaction, how long a MeterValues with the SoC is waited for
poll_s = 1                    # [s] how often requests are followed and closes read
"""


def open_bridge(config: Config, charge_points: list[str], push: Callable[[str, int], str], log):
    """(The bridge, its step interval [s]) for `gridchain ocpp serve` (`charge_points`: its charge-point ids), or
    None when the config has no `[bridge]` or it is not enabled. Everything is checked here, before the service
    starts: the section, [esu] and [community], each wallet, the deployed coordinator."""
    if not config.has("bridge"):
        return None
    settings = bridge_settings(config)
    if not settings.enabled:
        return None
    from gridchain.coordination.cli.config import community
    from gridchain.coordination.cli.connect import coordinator
    from gridchain.coordination.cli.esu_config import esu_settings
    from gridchain.coordination.parties.chargers import ChargerBridge, StatedNeed
    from gridchain.coordination.parties.closes import SlotCloses

    esu, rules = esu_settings(config), community(config)
    for cp_id, name in settings.wallets.items():
        if cp_id not in charge_points:
            known = ", ".join(charge_points) or "none"
            raise InputError(f"bridge.wallets.{cp_id}", f"{cp_id!r} is not in ocpp.charge_points ({known})")
        if not (esu.wallet_dir(name) / IDENTITY).is_file():
            raise InputError(
                f"bridge.wallets.{cp_id}",
                f"no wallet {name!r} in {str(esu.wallets)!r}: make it with `gridchain esu init --wallet {name}`",
            )
    _, client = coordinator(config)
    chargers = {cp_id: _charger(config, esu, rules, client, name) for cp_id, name in settings.wallets.items()}
    closes = SlotCloses(client, client.next_slot_to_close)
    need = StatedNeed(settings.demand_w, settings.soc_pm, settings.tcc)
    return ChargerBridge(chargers, closes, push, need, log, settings.soc_wait_s), settings.poll_s


def _charger(config: Config, esu, rules, client, name: str):
    """A charge point's wallet over the coordinator, and its refill from the utility (the epochs of now)."""
    from gridchain.config.accounts import account_address, password
    from gridchain.coordination.anonymous.parties.issuer import TokenWallet
    from gridchain.coordination.anonymous.service.issuance import IssuanceClient
    from gridchain.coordination.anonymous.service.relayer import RelayerClient
    from gridchain.coordination.parties.chargers import BridgedCharger
    from gridchain.coordination.parties.wallet import EsuWallet
    from gridchain.coordination.parties.wallet_state import WalletState
    from gridchain.crypto.keystore import read_keystore

    folder = esu.wallet_dir(name)
    wallet = EsuWallet(WalletState.open(folder, "bridge.wallets"), client, RelayerClient(esu.relayer_url))
    identity = read_keystore(folder / IDENTITY, password(config), f"bridge.wallets ({name})")
    issuance = IssuanceClient(esu.utility_url)
    tokens = TokenWallet(bytes.fromhex(identity[2:]), account_address(config, "issuer"), issuance)

    def refill():
        epoch = client.epoch_of_slot(wallet.current_slot())
        epochs = list(range(epoch, epoch + rules.lookahead_epochs + 1))
        return wallet.obtain_tokens(tokens, issuance.modulus, epochs, rules.quota)

    return BridgedCharger(wallet, refill)
