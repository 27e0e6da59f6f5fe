# Benchmark odibi-dbx against hand-written DuckDB / PySpark baselines (bench/README.md).
# make bench BENCH_ARGS="--sizes 1000,1000000 --repeats 3 --variants odibi,duckdb --delta"
# make bench BENCH_PYTHON=.venv-spark-dbr154/bin/python BENCH_ARGS="--variants odibi-spark,pyspark"
#   (another Spark version: a leg's interpreter from `make spark-legs`, tests/spark_matrix/legs.py)
BENCH_ARGS ?=
BENCH_PYTHON ?= .venv/bin/python

.PHONY: bench bench-data bench-startup
bench:  ## benchmark odibi vs baselines; results in bench/out/results.json
	$(BENCH_PYTHON) bench/run.py --sizes 1000,1000000,5000000 --repeats 5 $(BENCH_ARGS)

bench-data:  ## generate the bench data sets (bench/data/<size>/)
	for n in 1000 1000000 5000000; do .venv/bin/python bench/generate.py --orders $$n; done

bench-startup:  ## import time, the 1k-row runs vs hand-written jobs, validating 1,000 nodes
	.venv/bin/python bench/startup_bench.py $(BENCH_ARGS)
