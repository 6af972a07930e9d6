from sqlmodel import SQLModel

import certificates.models  # noqa: F401 - registers every table on the metadata
from shared.migrations import run_env

run_env(SQLModel.metadata)
