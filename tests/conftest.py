"""Suite-wide fixtures. Each real service a test needs is started by its fixture module."""

from fixtures.anvil import *  # noqa: F403  (one anvil per session, snapshot/revert per test)
from fixtures.deployment import *  # noqa: F403  (Lotlink deployed on the session anvil)
from fixtures.postgres import *  # noqa: F403  (a throwaway PostgreSQL cluster per session)
