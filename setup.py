"""Only for `scrapyd-deploy`, which builds its egg with `python setup.py bdist_egg`; all the
metadata is in pyproject.toml."""

from setuptools import setup

setup()
