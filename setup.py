"""Packaging beyond pyproject.toml (which holds the metadata): the package that lives outside src/.

The Vyper sources in the top-level contracts/ ship as package data of `gridchain.contracts` (a package-dir
mapping, so contracts/ stays where it is), which is how an installed gridchain finds and compiles them: the
deployable contracts, modules/ and interfaces/; never mocks/ (they only serve the tests).
"""

from pathlib import Path

from setuptools import find_packages, setup

SHIPPED = {"": ["*.vy"], "modules": ["*.vy"], "interfaces": ["*.vyi"]}  # contracts/<folder>: its package data
CONTRACTS = {
    ".".join(filter(None, ("gridchain.contracts", folder))): patterns
    for folder, patterns in SHIPPED.items()
    if (Path(__file__).parent / "contracts" / folder).is_dir()  # a folder that does not exist yet is no package
}

DASHBOARD = {"gridchain.dashboard": ["templates/*.html", "static/*", "static/vendor/**/*"]}  # vendor: `make setup`

setup(
    packages=[*find_packages(where="src"), *CONTRACTS],
    package_dir={"": "src", "gridchain.contracts": "contracts"},
    package_data={**CONTRACTS, **DASHBOARD},
)
