"""`make bench`: the performance suite at 1,000,000 customers (see benchmarks/bench.py)."""
