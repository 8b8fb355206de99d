import pytest

from servers import Server


@pytest.fixture(params=["ovs", "lanyard"])
def server(request):
    s = Server(request.param)
    yield s
    alive = s.proc is not None and s.proc.poll() is None
    s.close()
    assert alive, f"{request.param} server died during the test"
