# Spark: the Delta jars of the default venv, and the Spark version legs (tests/spark_matrix).
#   make spark-jars   Delta jars for the installed pyspark, resolved once by Spark into .ivy2/
#                     (git-ignored); later sessions need no network. Fails if Delta does not load.
#   make spark-legs   the venvs of the other Spark versions (.venv-spark-<leg>/, git-ignored,
#                     cached) and their jars: DBR 15.4 / 16.4 LTS lines, the newest runtime,
#                     Spark Connect (tests/spark_matrix).
.PHONY: spark-jars spark-legs test-spark test-spark-legs

spark-jars: $(VENV)/.test-ready  ## fetch the Delta jars for local Spark once
	@command -v java >/dev/null || { echo "spark-jars: no java on PATH; Spark tests will be skipped (and fail under CI=true)"; exit 0; }
	$(BIN)/python -m odibi_dbx.engines.spark_session --fetch

spark-legs: spark-jars  ## set up the Spark version legs (venvs + jars; cached)
	@command -v java >/dev/null || { echo "spark-legs: no java on PATH; the legs will be skipped (and fail under CI=true)"; exit 0; }
	$(BIN)/python -m tests.spark_matrix.legs build

test-spark: $(TEST_DEPS)  ## only the Spark engine and parity tests (default Spark)
	$(BIN)/python -m pytest tests/spark tests/parity $(PYTEST_ARGS)

test-spark-legs: spark-legs  ## only the Spark version legs (tests/spark_matrix)
	$(BIN)/python -m pytest tests/spark_matrix $(PYTEST_ARGS)

TEST_DEPS += spark-jars spark-legs
