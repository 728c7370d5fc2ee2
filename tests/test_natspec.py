"""The NatSpec of every Vyper file in contracts/ (snekmate's convention): a header with @title,
@custom:contract-name, @license, @author and @notice; on every external function and constructor, and on every
function of a module (a module's internal functions are its API), a @param for each parameter and a @return for
each value returned."""

import re
from pathlib import Path

import pytest
import vyper.ast as vy_ast

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"
FILES = sorted(p for p in CONTRACTS.rglob("*.vy*") if p.suffix in (".vy", ".vyi"))
HEADER = ("@title", "@custom:contract-name", "@license", "@author", "@notice")


def parse(path: Path):
    return vy_ast.parse_to_ast(path.read_text(), is_interface=path.suffix == ".vyi")


def test_every_kind_of_file_is_checked():
    kinds = {p.relative_to(CONTRACTS).parent.as_posix() for p in FILES}
    assert {".", "modules", "interfaces", "mocks"} <= kinds


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(CONTRACTS).as_posix())
def test_natspec(path):
    module = parse(path)
    header = module.doc_string.value if module.doc_string else ""
    assert all(tag in header for tag in HEADER), f"{path.name}: header lacks {[t for t in HEADER if t not in header]}"
    assert f"@custom:contract-name {path.stem}\n" in header
    if path.suffix == ".vyi":
        return  # an interface's functions are documented once, in the contract that implements it
    for fn in (n for n in module.body if isinstance(n, vy_ast.FunctionDef)):
        decorators = {getattr(d, "id", None) for d in fn.decorator_list}
        if not decorators & {"external", "deploy"} and path.parent.name != "modules":
            continue
        doc = fn.doc_string.value if fn.doc_string else ""
        params = set(re.findall(r"@param (\w+)", doc))
        missing = [a.arg for a in fn.args.args if a.arg not in params]
        assert not missing, f"{path.name}: {fn.name} lacks @param for {missing}"
        returned = 0 if fn.returns is None else len(fn.returns.elements) if isinstance(fn.returns, vy_ast.Tuple) else 1
        assert doc.count("@return") == returned, (
            f"{path.name}: {fn.name} has {doc.count('@return')} @return of {returned}"
        )
