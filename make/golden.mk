# Spark's own SQL golden files (sql-tests/ of the published spark-sql tests jar), fetched once
# into .golden/ (git-ignored) for tests/sql/test_golden.py; without mvn that test is skipped.
SPARK_SQL_TESTS_JAR := spark-sql_2.13-4.0.1-tests.jar
GOLDEN_READY := .golden/sql-tests/.ready

.PHONY: golden-files
golden-files: $(GOLDEN_READY)  ## fetch Spark's SQL golden files once (conformance test)

$(GOLDEN_READY): | $(BIN)/python
	@command -v mvn >/dev/null || { echo "golden-files: no mvn on PATH; the golden-file test will be skipped"; exit 0; }
	mvn -q -B dependency:copy -Dartifact=org.apache.spark:spark-sql_2.13:4.0.1:jar:tests -DoutputDirectory=.golden
	$(BIN)/python -c "import zipfile; z = zipfile.ZipFile('.golden/$(SPARK_SQL_TESTS_JAR)'); \
	  z.extractall('.golden', [n for n in z.namelist() if n.startswith('sql-tests/')])"
	rm -f .golden/$(SPARK_SQL_TESTS_JAR)
	touch $@

TEST_DEPS += $(GOLDEN_READY)
