"""The hand-over tests' servers: real HTTP(S) servers on 127.0.0.1 (see ``tests.handover_servers``)."""

from tests.handover_servers import handover_servers  # noqa: F401  (a fixture)
