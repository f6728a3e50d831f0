"""Concurrency tests that only a real database can prove.

Tortoise serialises every transaction on SQLite (one connection, one lock), so a race test
there passes whatever the code does. Such tests take `needs_real_database`: skipped with that
reason on SQLite, run on MariaDB (TEST_DATABASE_URL), and failed, never skipped, when
TEST_REQUIRE_SERVICES (CI) is set without MariaDB.
"""

import pytest

REASON = "proves nothing on SQLite: Tortoise serialises transactions there"

needs_real_database = pytest.mark.usefixtures("real_database")
