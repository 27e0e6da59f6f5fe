# Headless Chromium (Debian's `chromium`) for the story browser test (tests/story): installed
# with apt-get only when missing; without root the test is skipped locally (and fails in CI).
.PHONY: chromium
chromium:  ## install Debian's chromium for the story browser test, if missing
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	  else echo "chromium: not installed (needs root and apt-get); the story browser test will be skipped"; fi; }

TEST_DEPS += chromium
