"""Database migrations (Alembic), configured in code so they work from an installed package.

The migration scripts ship inside the package (``app/migrations``); there is no alembic.ini.
``arena db upgrade`` calls :func:`upgrade`; the embedded mode calls it on start, and the server
mode checks :func:`schema_status` and refuses to serve a database that is behind.

The developer workflow for a model change::

    python -c "from app.migrate import revision; revision('add foo')"   # autogenerate
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

from data.orm import Base

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Modules that put tables on ``Base``; a missing optional module is skipped.
MODEL_MODULES = ("app.models", "data.store")


def load_metadata() -> MetaData:
    """``Base.metadata`` with every model module imported (what the migrations must match)."""
    for name in MODEL_MODULES:
        package = name.rpartition(".")[0]
        if importlib.util.find_spec(package) and importlib.util.find_spec(name):
            importlib.import_module(name)
    return Base.metadata


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config for our scripts; with ``engine`` the commands run on it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision the code knows (one head; a branch is a bug to fix by merging)."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads ({', '.join(heads)}); "
                           "merge them with alembic merge")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert the migrations down to ``revision`` (``base`` = empty database)."""
    command.downgrade(alembic_config(engine), revision)


def revision(message: str, engine: Engine) -> None:
    """Autogenerate a new migration script comparing the models with ``engine``'s database."""
    command.revision(alembic_config(engine), message=message, autogenerate=True)


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self, database_url: str) -> str:
        """A sentence for logs and error pages saying what is wrong and how to fix it."""
        if self.up_to_date:
            return f"database schema is up to date (revision {self.head})"
        where = redact_url(database_url)
        now = "empty (no migrations applied)" if self.current is None else \
            f"at revision {self.current}"
        return (f"the database {where} is {now}, but this version of Strategy Arena needs "
                f"revision {self.head}: run `arena db upgrade` with the same DATABASE_URL, "
                "then restart")


def schema_status(engine: Engine) -> SchemaStatus:
    return SchemaStatus(current_revision(engine), head_revision())


def redact_url(database_url: str) -> str:
    """The URL without its password (for messages and logs)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:  # a URL the driver can't parse is shown as its scheme only
        return database_url.split(":", 1)[0] + "://…"
