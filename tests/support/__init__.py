"""What the adapter suites share: reading pages, a browser, the sites under test (the demo
banks and the lab apps, on Flask and on Starlette) and their fixtures, loaded as a pytest
plugin by ``tests/conftest.py``."""
