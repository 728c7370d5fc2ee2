"""What every contract client shares: a compiled artifact at an address behind any gateway."""

from __future__ import annotations

from collections.abc import Sequence

from gridchain.chain.compiler import Artifact, compile_contract
from gridchain.chain.gateway import Gateway, Receipt


class ContractClient:
    """Subclasses name their contract (CONTRACT, a file in contracts/) and wrap its functions."""

    CONTRACT = ""

    def __init__(self, gateway: Gateway, address: str, artifact: Artifact | None = None) -> None:
        self.gateway = gateway
        self.address = address
        self.artifact = artifact or compile_contract(self.CONTRACT)
        self._chain_id: int | None = None

    @classmethod
    def _deploy(cls, gateway: Gateway, owner: str, args: Sequence[object]) -> tuple[ContractClient, Receipt]:
        artifact = compile_contract(cls.CONTRACT)
        receipt = gateway.deploy(artifact, list(args), owner)
        assert receipt.contract_address is not None
        return cls(gateway, receipt.contract_address, artifact), receipt

    def _tx(self, fn: str, args: Sequence[object], sender: str, value: int = 0) -> Receipt:
        return self.gateway.transact(self.artifact, self.address, fn, args, sender, value)

    def view(self, fn: str, *args: object) -> object:
        return self.gateway.call(self.artifact, self.address, fn, args)

    def chain_id(self) -> int:
        """The chain id the contract signs its EIP-712 domain with (from `eip712Domain`, EIP-5267; read once)."""
        if self._chain_id is None:
            self._chain_id = int(self.view("eip712Domain")[3])
        return self._chain_id

    def balance(self) -> int:
        """The contract's balance [wei]."""
        return self.gateway.balance(self.address)
