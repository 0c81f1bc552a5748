"""djax benchmark suites (not part of the installed package); entry point ``djax bench`` / ``run.run_bench``."""
