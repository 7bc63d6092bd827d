"""foodchain's packages: those found under foodchain/, and the bundled scenarios.

Everything else is in pyproject.toml, which cannot both find packages and add one from another
folder. The repository's top-level scenarios/ folder ships in the wheel as the package
foodchain.scenarios (one copy of each file; foodchain/bundled.py reads it). Found rather than
listed, a new subpackage cannot be left out of the wheel.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["foodchain", "foodchain.*"]),
        "foodchain.scenarios",
    ],
    package_dir={"foodchain.scenarios": "scenarios"},
)
