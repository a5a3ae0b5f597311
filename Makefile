# Thin aliases for dev.py, which needs nothing but Python 3.11.
PYTHON ?= python3.11

.PHONY: demo test lint install
demo:
	$(PYTHON) dev.py demo
test:
	$(PYTHON) dev.py test
install:
	$(PYTHON) dev.py install
lint:
	$(PYTHON) dev.py lint
