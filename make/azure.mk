# Azure ADLS + Key Vault: secret fetch benchmark (fakes from tests/azure_fakes; no network).
.PHONY: kv-bench test-azure
kv-bench: $(VENV)/.test-ready  ## time fetching 8 Key Vault secrets vs 1 (200 ms latency each)
	$(BIN)/python bench/kv_bench.py --connections 8 --latency 0.2 --repeats 5

test-azure: $(TEST_DEPS)  ## only the azure-marked tests (Azurite, fake Key Vault / IMDS)
	$(BIN)/python -m pytest -m azure tests/azure $(PYTEST_ARGS)
