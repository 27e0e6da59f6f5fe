from tests.spark.spark_fixtures import job_counter, spark  # noqa: F401 - shared fixtures
