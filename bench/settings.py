"""Benchmark settings: the platform's own, plus a bare view to compare the pages against."""

from gmg.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
