"""Where huey finds the platform's tasks: each app keeps its own in `<app>/tasks.py`; this module
imports them so that one consumer (`shequ run_huey`) runs them all."""
