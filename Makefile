# gridchain: two commands do everything: `make demo` and `make test` (both set up on first use).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ANVIL  := node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
# keccak256 for the dashboard's in-browser Merkle proofs: @noble/hashes' ESM files, served by the dashboard
NOBLE  := node_modules/@noble/hashes
VENDOR := src/gridchain/dashboard/static/vendor/noble-hashes

.PHONY: setup postgres chromium demo lint test package-test pilot-test faults bench load fig2 gas grid clean

setup: $(VENV)/.installed node_modules/.installed $(VENDOR)/.copied postgres chromium

# Debian's PostgreSQL server, which the store's tests start on 127.0.0.1 (its binaries only: no service is enabled)
postgres:
	@.ci/apt-install "the store's tests (they start a server of their own)" \
	  'ls /usr/lib/postgresql/*/bin/postgres' postgresql

# Debian's chromium, which the dashboard's browser tests drive headless through Playwright (no browser download)
chromium:
	@.ci/apt-install "the dashboard's browser tests" 'test -x /usr/bin/chromium' chromium

$(VENV)/.installed: pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "gridchain needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@$(ANVIL) --version | head -n 1
	@touch $@

# the dashboard serves these itself (no node_modules at run time; an installed wheel ships them as package data)
$(VENDOR)/.copied: node_modules/.installed
	mkdir -p $(VENDOR)
	cp $(NOBLE)/sha3.js $(NOBLE)/_u64.js $(NOBLE)/utils.js $(NOBLE)/LICENSE $(VENDOR)/
	@touch $@

demo: setup
	$(VENV)/bin/gridchain demo

# the house rules: lint (with a complexity limit), format, and the import layers of docs/architecture.md
lint: setup
	$(VENV)/bin/ruff check src tests benchmarks setup.py
	$(VENV)/bin/ruff format --check src tests benchmarks setup.py
	$(VENV)/bin/lint-imports

# the suite on up to 4 processes (pytest-xdist; each test starts its own chains and nodes on free ports): about
# 10 minutes on 2 cores (2,295 tests), where one process took 18 for fewer. TEST_JOBS=1: one process
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
test: setup lint
	$(PY) -m pytest -n $(TEST_JOBS)

# `pip install .` in a fresh venv, then `gridchain demo --json` from outside the repository (a few minutes: the
# dependencies are installed again, from pip's cache); pytest's addopts keep these tests out of `make test`
package-test: setup
	$(PY) -m pytest -m package tests/packaging

# the parties as separate OS processes over real-time slots, only through the CLI and gridchain.toml: the community
# pilot (tests/pilot), docs/operate.md's tutorial, V2V, roaming and the charge-point bridge; minutes of wall-clock
# time each, so kept out of `make test` and run by CI after it
pilot-test: setup
	$(PY) -m pytest -m pilot

# the pilot's processes SIGKILLed at moments drawn from a seed and restarted, then checked that nothing acknowledged
# was lost (tests/faults); kills and losses per target go to results/faults.json. More kills: FAULTS_KILLS=N (per
# target, default 2), another seed: FAULTS_SEED=S. About 20 minutes, so run by CI after pilot-test
faults: setup
	$(PY) -m pytest -m faults tests/faults

bench: setup
	$(PY) benchmarks/bench_schedule.py --out results/bench_schedule.json
	$(PY) benchmarks/bench_blind_sign.py --out results/bench_blind_sign.json
	$(VENV)/bin/gridchain gas-report --hardfork prague --out results
	$(PY) benchmarks/bench_grid.py --out results/bench_grid.json
	$(PY) benchmarks/bench_index.py --out results/bench_index.json
	$(PY) benchmarks/bench_rpc.py --out results/bench_rpc.json
	$(PY) benchmarks/bench_close.py --out results/bench_close.json

# 10,000 ESUs through issuance and the relayer in one slot, on SQLite, then on PostgreSQL (about 25 minutes each)
load: setup
	$(PY) benchmarks/bench_load.py --esus 10000 --store sqlite --out results/bench_load_sqlite_10000.json
	$(PY) benchmarks/bench_load.py --esus 10000 --store postgresql --out results/bench_load_postgresql_10000.json

fig2: setup
	$(VENV)/bin/gridchain experiment fig2 --runs 80 --seed 0 --out docs/figures

grid: setup
	$(VENV)/bin/gridchain experiment grid --evs 200 --days 1 --seed 0 --out docs/figures

gas: setup
	$(VENV)/bin/gridchain gas-report --hardfork prague --out docs/figures
	$(VENV)/bin/gridchain gas-report --hardfork osaka --out docs/figures

clean:
	rm -rf $(VENV) node_modules results
