# make demo | make test | make bench — each sets up what it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	@./scripts/setup-venv $(PYTHON) $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	@./scripts/setup-system demo
	$(BIN)/minerwatch demo $(if $(DEMO_ROUNDS),--rounds $(DEMO_ROUNDS)) $(if $(DEMO_KEEP),--keep)

test: $(STAMP)
	@./scripts/setup-system
	$(BIN)/pytest

# The peers (pyasic, asic-rs) live in a venv of their own, so they never reach the product's.
bench: $(STAMP)
	@./scripts/setup-venv $(PYTHON) .venv-bench
	.venv-bench/bin/pip install --quiet -e '.[commander]' pyasic==0.79.0 pyasic-rs==0.8.6
	.venv-bench/bin/python bench/run.py
	.venv-bench/bin/python -m bench.store
	.venv-bench/bin/python -m bench.web_metrics
	.venv-bench/bin/python -m bench.web_pages
	@./scripts/setup-system
	.venv-bench/bin/python -m bench.snmp
	.venv-bench/bin/python -m bench.commander
	.venv-bench/bin/python -m bench.asic_sentry
	.venv-bench/bin/python -m bench.web_load

clean:
	rm -rf $(VENV) .venv-bench .demo bench/results.json
