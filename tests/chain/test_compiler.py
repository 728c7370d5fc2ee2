"""The compiler's per-contract settings (issue 22): Venom or the legacy pipeline, the optimisation mode, and the
cache key that keeps their artifacts apart."""

import pytest
from vyper.compiler.settings import OptimizationLevel

from gridchain.chain import compiler


def test_a_contract_not_listed_compiles_with_vypers_defaults(monkeypatch):
    monkeypatch.delenv("GRIDCHAIN_CODEGEN", raising=False)
    settings = compiler.compiler_settings("no_such_contract")
    assert (settings.experimental_codegen, settings.optimize) == (None, None)


def test_the_environment_forces_a_pipeline_and_refuses_any_other(monkeypatch):
    monkeypatch.setitem(compiler.CODEGEN, "listed", (True, OptimizationLevel.CODESIZE))
    monkeypatch.setenv("GRIDCHAIN_CODEGEN", "legacy")
    assert compiler.compiler_settings("listed").experimental_codegen is None
    assert compiler.compiler_settings("listed").optimize is OptimizationLevel.CODESIZE
    monkeypatch.setenv("GRIDCHAIN_CODEGEN", "venom")
    assert compiler.compiler_settings("other").experimental_codegen is True
    monkeypatch.setenv("GRIDCHAIN_CODEGEN", "fast")
    with pytest.raises(ValueError, match="GRIDCHAIN_CODEGEN must be legacy, venom or venom:name,..., not 'fast'"):
        compiler.compiler_settings("listed")


def test_the_environment_forces_venom_on_the_listed_contracts_only(monkeypatch):
    monkeypatch.setitem(compiler.CODEGEN, "listed", (True, OptimizationLevel.CODESIZE))
    monkeypatch.setenv("GRIDCHAIN_CODEGEN", "venom:one,two")
    assert compiler.compiler_settings("one").experimental_codegen is True
    assert compiler.compiler_settings("two").experimental_codegen is True
    assert compiler.compiler_settings("listed").experimental_codegen is None  # not named: legacy, whatever CODEGEN
    assert compiler.compiler_settings("listed").optimize is OptimizationLevel.CODESIZE
    assert compiler.compiler_settings("on").experimental_codegen is None  # names, not prefixes
    monkeypatch.setenv("GRIDCHAIN_CODEGEN", "legacy:one")
    with pytest.raises(ValueError, match="not 'legacy:one'"):
        compiler.compiler_settings("one")


TINY = """# pragma version ~=0.4.3
x: public(uint256)


@external
def add(y: uint256):
    self.x += y
"""


def test_the_settings_are_part_of_the_cache_key(monkeypatch, tmp_path):
    """The same source under two pipelines: two artifacts, each named by its settings; the defaults keep the
    hash they had before settings existed (the source and modules alone)."""
    monkeypatch.setattr(compiler, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.delenv("GRIDCHAIN_CODEGEN", raising=False)
    (tmp_path / "tiny.vy").write_text(TINY)
    legacy = compiler.compile_contract("tiny", use_cache=False, directory=tmp_path)
    monkeypatch.setenv("GRIDCHAIN_CODEGEN", "venom")
    venom = compiler.compile_contract("tiny", use_cache=False, directory=tmp_path)
    assert legacy.source_sha256 != venom.source_sha256
    assert (legacy.compiler.endswith(" venom"), venom.compiler.endswith(" venom")) == (False, True)
    assert legacy.bytecode != venom.bytecode
    assert len(list((tmp_path / "cache").glob("tiny-*.json"))) == 2
    assert compiler.compile_contract("tiny", directory=tmp_path).bytecode == venom.bytecode  # the cached one
    monkeypatch.setitem(compiler.CODEGEN, "tiny", (False, OptimizationLevel.CODESIZE))
    monkeypatch.setenv("GRIDCHAIN_CODEGEN", "legacy")
    small = compiler.compile_contract("tiny", directory=tmp_path)
    assert small.compiler.endswith(" optimize=codesize") and small.source_sha256 != legacy.source_sha256
