"""Where huey finds the platform's tasks: each app keeps its own in `<app>/tasks.py`; this module
imports them so that one consumer (`shequ run_huey`) runs them all."""

from shequ.cases import tasks as cases_tasks  # noqa: F401  (the deadline sweep)
from shequ.core import tasks as core_tasks  # noqa: F401  (Excel import check and commit)
