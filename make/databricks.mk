# Databricks: the wheel clusters install, the notebook kernel the tests use, the cluster-fit check.
#   make wheel         dist/odibi_dbx-<version>-py3-none-any.whl (what bundle/databricks.yml uploads)
#   make cluster-fit   the slow DBR 15.4 LTS check (venv cached in .venv-dbr154/)
.PHONY: wheel cluster-fit

wheel: $(BIN)/python  ## build the wheel for clusters into dist/
	rm -f dist/odibi_dbx-*.whl
	$(PIP) wheel --no-deps -q --wheel-dir dist .
	@ls dist/odibi_dbx-*.whl

# nbclient/nbmake run the notebooks in the "python3" kernel of this venv
$(VENV)/.kernel-ready: $(VENV)/.test-ready
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

cluster-fit: $(VENV)/.test-ready  ## does the wheel fit DBR 15.4 LTS (pandas 1.5.3, numpy 1.23.5, pyarrow 14)?
	$(BIN)/python -m pytest -m slow tests/databricks/test_cluster_fit.py $(PYTEST_ARGS)

TEST_DEPS += $(VENV)/.kernel-ready
