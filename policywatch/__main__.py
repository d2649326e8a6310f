"""`python -m policywatch` is the `policywatch` command."""

from policywatch.cli import main

main()
