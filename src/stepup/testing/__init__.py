"""Test helpers for people who extend stepup: the contract every store must keep.

Importing this package needs pytest (and no pytest plugin)::

    from stepup.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def make_store(self):
            return lambda clock: MyStore(clock=clock)
"""

from .store_contract import StoreContract as StoreContract
from .store_contract import StoreFactory as StoreFactory
from .store_contract import code_from as code_from

__all__ = ["StoreContract", "StoreFactory", "code_from"]
