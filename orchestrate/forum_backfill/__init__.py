"""The Dagster example: a windowed backfill, one `meltano run` per window, in parallel."""
