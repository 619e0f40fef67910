"""stepup's benchmarks: ``make bench`` runs them and rewrites docs/BENCHMARKS.md.

- :mod:`benchmarks.hot_path`: per-request cost in process, Flask and Starlette, and the
  peer (Flask-Security-Too's freshness check).
- :mod:`benchmarks.challenge_path`: start + verify per second per store, and bytes per
  pending challenge, from 1,000 to 1,000,000 pending.
- :mod:`benchmarks.under_load`: the example banks under uvicorn and gunicorn, driven by
  :mod:`benchmarks._loadgen` from a second process on 127.0.0.1.

None of them is a test: nothing under tests/ times anything.
"""
