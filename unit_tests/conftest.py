import pytest

from source_100ms.components import auth


@pytest.fixture(autouse=True)
def fresh_token_cache():
    """Each test starts without a cached management token, as a new connector process would."""
    auth._minters.clear()
    yield
    auth._minters.clear()
