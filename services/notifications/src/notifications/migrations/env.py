from sqlmodel import SQLModel

import notifications.models  # noqa: F401 - registers every table on the metadata
from shared.migrations import run_env

run_env(SQLModel.metadata)
