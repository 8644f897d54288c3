# Venue Suite. A newcomer runs `make demo` or `make test`; each does its own set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= $(CURDIR)/.demo

# Debian packages the suite and its tests need (device lab, Xvfb, PostgreSQL, CJK fonts).
APT_PACKAGES := python3-venv python3-tk python3-dev build-essential \
	postgresql postgresql-client libpcsclite-dev pcscd pcsc-tools vsmartcard-vpcd socat \
	xvfb xdotool x11-utils imagemagick zbar-tools fonts-noto-cjk

.PHONY: demo test bench setup system-packages venv catalogues clean

demo: setup
	$(PY) -m suite.demo --dir "$(DEMO_DIR)"

test: setup
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

setup: system-packages $(STAMP) catalogues

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
		log=$$(mktemp); \
		if ! { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			--no-install-recommends $$missing; } > $$log 2>&1; then tail -n 30 $$log; exit 1; fi; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys, venv, tkinter; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

catalogues: $(STAMP)
	$(PY) -m suite.i18n_build

clean:
	rm -rf $(VENV) .demo build *.egg-info
