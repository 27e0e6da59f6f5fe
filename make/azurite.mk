# Azurite (Azure Storage emulator) for the azure-marked tests; Node 20 => azurite 3.35.0 (3.37 needs Node 22).
AZURITE_VERSION ?= 3.35.0
AZURITE_BIN := node_modules/.bin/azurite-blob

.PHONY: azurite
azurite: $(AZURITE_BIN)  ## install the Azurite storage emulator into node_modules (azure tests)

$(AZURITE_BIN):
	@command -v npm >/dev/null || { echo "npm not found: install Node 20 to run the azure tests" >&2; exit 1; }
	npm install --prefix "$(CURDIR)" --no-save --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)
	@test -x $@

TEST_DEPS += azurite
