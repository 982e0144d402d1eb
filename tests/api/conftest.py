"""Fixtures for the API tests: a private PostgreSQL (TESSERA_DB=postgres) and tessera servers.

Environment: TESSERA_BIN (default build/tessera), TESSERA_DB = sqlite (default) | postgres.

- `server`: the module's shared server (started once per test module; replaced if it died).
- `make_server(cfg={...}, extra_lines="", start=True, ...)`: a fresh server for one test,
  e.g. with PI_NO_RESPONSE_SIGN; stopped when the test ends.
- After every test each running server is checked: it must still be alive and its stderr must
  hold no sanitizer report. At teardown a server must exit with status 0 on SIGTERM.
"""
import atexit
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import HarnessError, PgCluster, Server, tessera_bin  # noqa: E402


def pytest_report_header(config):
    return "tessera: %s, database: %s" % (tessera_bin(), os.environ.get("TESSERA_DB", "sqlite"))


def _terminate(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    # A SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C so that servers and the
    # PostgreSQL cluster are stopped. (After a SIGKILL: servers die with us through
    # PR_SET_PDEATHSIG and the next run reaps the cluster.)
    signal.signal(signal.SIGTERM, _terminate)


@pytest.fixture(scope="session", autouse=True)
def _binary_present():
    """Stop at once, with one message, when there is nothing to test."""
    binary = tessera_bin()
    if not os.access(binary, os.X_OK):
        pytest.exit("TESSERA_BIN %s is not an executable (build it first)" % binary, returncode=2)
    if os.environ.get("TESSERA_DB", "sqlite") not in ("sqlite", "postgres"):
        pytest.exit("TESSERA_DB must be sqlite or postgres", returncode=2)


@pytest.fixture(scope="session")
def pg():
    """The session's PostgreSQL cluster, or None when testing on SQLite."""
    if os.environ.get("TESSERA_DB", "sqlite") != "postgres":
        yield None
        return
    cluster = PgCluster()
    atexit.register(cluster.stop)  # also when the session is interrupted hard
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _stop_all(servers):
    errors = []
    for s in servers:
        try:
            s.stop()
        except HarnessError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture(scope="module")
def _module_server(pg, tmp_path_factory):
    holder = {"servers": []}
    yield holder
    _stop_all(holder["servers"])


@pytest.fixture
def server(_module_server, pg, tmp_path_factory):
    """The shared server of this test module (fresh one if the previous one died)."""
    current = _module_server.get("current")
    if current is None or not current.alive():
        current = Server(tmp_path_factory.mktemp("srv"), pg=pg)
        _module_server["servers"].append(current)
        _module_server["current"] = current
        current.setup()
        current.start()
    return current


@pytest.fixture
def make_server(pg, tmp_path_factory):
    """Factory for servers private to one test: make_server(cfg={...}, start=False, ...)."""
    created = []

    def factory(start=True, **kw):
        s = Server(tmp_path_factory.mktemp("srv"), pg=pg, **kw)
        created.append(s)
        s.setup()
        if start:
            s.start()
        return s

    yield factory
    _stop_all(created)


@pytest.fixture(autouse=True)
def _servers_stay_healthy():
    """Fail the test during which a server died or reported a sanitizer error."""
    yield
    problems = [p for p in (s.problems() for s in list(Server.live)) if p]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


# ---- second_server_same_db (added with /system; generic) -----------------------------------
@pytest.fixture
def second_server_same_db(tmp_path_factory):
    """Factory: second_server_same_db(first, threads=None) starts another `tessera serve` on the
    same pi.cfg as the running Server `first` (same database, key file, audit keys, SECRET_KEY,
    PI_PEPPER) on another port, as a second node of one installation would run. The returned
    Server shares `first`'s admin, db_query() and signature key; it has its own stderr file and
    is stopped (and checked) when the test ends."""
    created = []

    def factory(first, threads=None):
        s = Server(tmp_path_factory.mktemp("srv2"), pg=first.pg, threads=threads, binary=first.binary,
                   env=first.extra_env)
        for attr in ("cfg", "cfg_path", "extra_lines", "secret_key", "pepper", "enckey", "private_pem",
                     "public_pem", "logfile", "sqlite_path", "dbname", "admin_user", "admin_password"):
            setattr(s, attr, getattr(first, attr))
        s.cfg = dict(first.cfg)
        created.append(s)
        s.start()
        return s

    yield factory
    _stop_all(created)


# ---- users issue fixtures ----
# Real user stores for tests/api/test_users.py (and anyone else who needs users).
@pytest.fixture(scope="session")
def slapd():
    """A throwaway OpenLDAP server (tests/fixtures/slapd.py): ldap:// with STARTTLS and ldaps://,
    a test CA, 500 users user0001..user0500 (password Pass-0001...) and special users."""
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    if fixtures not in sys.path:
        sys.path.insert(0, fixtures)
    from slapd import Slapd  # noqa: E402
    ds = Slapd(ldaps=True)
    ds.start()
    atexit.register(ds.stop)
    try:
        yield ds
    finally:
        ds.stop()


@pytest.fixture(scope="session")
def users_pg(pg):
    """A PostgreSQL server for SQL resolvers: the suite's own with TESSERA_DB=postgres, else a
    private cluster started for the session."""
    if pg is not None:
        yield pg
        return
    cluster = PgCluster()
    atexit.register(cluster.stop)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
