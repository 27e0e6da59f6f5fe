# Delta jars for the local Spark engine, resolved once by Spark itself into .ivy2/ (git-ignored).
# Later sessions find them there with no network (odibi_dbx/engines/spark_session.py).
DELTA_SPARK_VERSION := $(shell sed -n 's/^delta-spark==//p' $(CONSTRAINTS))
DELTA_JAR := .ivy2/jars/io.delta_delta-spark_2.13-$(DELTA_SPARK_VERSION).jar

.PHONY: spark-jars test-spark
spark-jars: $(DELTA_JAR)  ## fetch the Delta jars for local Spark once

$(DELTA_JAR): | $(VENV)/.test-ready
	@command -v java >/dev/null || { echo "spark-jars: no java on PATH; Spark tests will be skipped"; exit 0; }
	$(BIN)/python -m odibi_dbx.engines.spark_session --fetch

test-spark: $(TEST_DEPS)  ## only the Spark engine and parity tests
	$(BIN)/python -m pytest tests/spark tests/parity $(PYTEST_ARGS)

TEST_DEPS += spark-jars
