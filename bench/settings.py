"""Settings of the benchmark runs: the platform's own, plus a URL conf with the floor endpoints."""

from shequ.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
