"""`python -m policywatch` is the `policywatch` command."""

from policywatch.cli import main

if __name__ == "__main__":  # not when a spawned helper process imports this module
    main()
