# The two commands a newcomer needs:
#   make demo   the main job: sandbox API -> meltano run (every seed API) -> embedded PostgreSQL
#   make test   the whole test suite (what CI runs: .ci/run calls `make test`)
.PHONY: setup dagster demo demo-batch test lint unit fuzz e2e catalogs readme bench clean

setup:  ## create .venv (tap + tools), .venv-meltano and the Meltano plugins
	bash scripts/setup.sh

dagster:  ## setup, plus .venv-dagster for the backfill example (orchestrate/README.md)
	bash scripts/setup.sh --with-dagster

demo: setup
	bash scripts/demo.sh

demo-batch: setup  ## the demo with BATCH messages (jsonl.gz files) instead of RECORD messages
	bash scripts/demo.sh --batch

lint: setup
	.venv/bin/ruff check tap_analytics tests sandbox benchmarks scripts orchestrate
	.venv/bin/mypy

test: lint
	.venv/bin/python -m pytest -q -p no:cacheprovider

unit: setup  ## the fast part: unit + integration tests only
	.venv/bin/python -m pytest -q -p no:cacheprovider tests/unit tests/integration tests/sandbox

fuzz: setup  ## property tests on fresh random examples, many of them (make test replays a fixed set)
	HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest -q -p no:cacheprovider tests/hardening/test_property_parsing.py tests/unit/test_pagination.py

readme: setup  ## refresh the settings table in README.md
	.venv/bin/python scripts/readme_settings.py --write

catalogs: setup  ## refresh catalog/ from --discover
	.venv/bin/python scripts/catalogs.py --write

bench: setup
	.venv/bin/python benchmarks/bench.py

e2e: setup  ## the Meltano + PostgreSQL end-to-end tests only
	.venv/bin/python -m pytest -q -p no:cacheprovider tests/e2e

clean:
	rm -rf .venv .venv-meltano .venv-dagster .meltano .demo output
