"""`python -m tap_analytics` runs the tap's command line."""

from tap_analytics.tap import TapAnalytics

TapAnalytics.cli()
