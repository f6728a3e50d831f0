"""`python -m bench`: every benchmark in one run; see bench/suite.py."""

from bench.suite import main

main()
