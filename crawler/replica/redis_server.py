"""A throwaway ``redis-server`` on a free loopback port, for the frontier tests and benchmark.

No persistence (``--save "" --appendonly no``), its working directory a temporary one, killed on exit.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import redis

#: Debian's redis-server (package redis-server).
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalRedis:
    """``with LocalRedis() as server: server.url`` — ``redis://127.0.0.1:PORT``. Another process may
    take the chosen port between the probe and the start: then it tries a new one."""

    def __init__(self, attempts: int = 5):
        self.attempts = attempts
        self.proc: subprocess.Popen | None = None
        self.workdir = tempfile.TemporaryDirectory(prefix="grayscan-redis-")
        self.url = ""

    def __enter__(self) -> LocalRedis:
        for _ in range(self.attempts):
            port = free_port()
            self.proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no", "--dir", self.workdir.name],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._ready(redis.Redis(port=port)):
                self.url = f"redis://127.0.0.1:{port}"
                return self
            self.proc.kill()
            self.proc.wait()
        self.workdir.cleanup()
        raise RuntimeError(f"{REDIS_SERVER} did not start")

    def _ready(self, client: redis.Redis) -> bool:
        for _ in range(100):
            if self.proc.poll() is not None:
                return False
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                time.sleep(0.05)
        return False

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.workdir.cleanup()
