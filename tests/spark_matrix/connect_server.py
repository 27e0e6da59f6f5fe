"""A local Spark Connect server with Delta, started from the pip pyspark (what serverless and
standard access mode compute give a client), bound to 127.0.0.1 on a free port, stopped by PID.

    with ConnectServer(log_path) as server:
        env SPARK_REMOTE=server.remote

`ui=True` also serves the server's Spark UI on 127.0.0.1 (`server.ui`): its REST API lists the
jobs the server ran, which a Connect client cannot see (tests count them through it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConnectServer:
    def __init__(self, log_path: Path, start_timeout: float = 180, ui: bool = False):
        self.log_path, self.start_timeout = log_path, start_timeout
        self.port = free_port()
        self.ui_port = free_port() if ui else None
        self.proc: subprocess.Popen | None = None

    @property
    def remote(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    @property
    def ui(self) -> str | None:
        return f"http://127.0.0.1:{self.ui_port}" if self.ui_port else None

    def command(self) -> list[str]:
        import pyspark

        from odibi_dbx.engines.spark_session import local_conf

        conf = {
            **local_conf("UTC"),
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.sql.shuffle.partitions": "2",
            "spark.databricks.delta.snapshotPartitions": "1",
        }
        conf.pop("spark.sql.execution.arrow.pyspark.enabled")  # a client-side setting
        if self.ui_port:  # bound to SPARK_LOCAL_IP (127.0.0.1, set below)
            conf.update({"spark.ui.enabled": "true", "spark.ui.port": str(self.ui_port)})
        packages = conf.pop("spark.jars.packages")
        spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
        cmd = [str(spark_submit), "--master", "local[2]", "--packages", packages]
        for key, value in conf.items():
            cmd += ["--conf", f"{key}={value}"]
        return [*cmd, "--class", SERVER_CLASS, "spark-internal"]

    def __enter__(self) -> ConnectServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "PYSPARK_PYTHON")}
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
        self.proc = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the Spark Connect server exited; see {self.log_path}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"no Spark Connect server on port {self.port}; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        """Stop the server we started: its PID (spark-submit execs the JVM), then its group."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
