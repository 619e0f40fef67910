"""What the suites that drive whole apps share: reading pages, a browser, the sites under
test (the demo banks and the lab apps, on Flask and on Starlette) and their fixtures, short
cuts through their flows (``flows``), faults to inject (``faults``), the examples served by
real server processes (``servers``), fake SMS providers (``providers``) and restartable
Redis servers (``redis_servers``). ``fixtures``, ``providers`` and ``redis_servers`` are
loaded as pytest plugins by ``tests/conftest.py``."""
