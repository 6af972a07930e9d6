"""A process started as the services are (``python -m shared.serve``, uvicorn's command line): it serves, keeps
its Date header, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from shared.localinfra.ports import free_port, terminate, wait_for_port

APP = '''
from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
'''


def test_a_server_started_by_shared_serve_answers_with_a_date_header_and_stops_cleanly_on_sigterm(tmp_path: Path):
    (tmp_path / "tiny_app.py").write_text(APP)
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared.serve", "tiny_app:app", "--app-dir", str(tmp_path), "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port("127.0.0.1", port, timeout=60, what="shared.serve", alive=lambda: process.poll() is None)
        response = httpx.get(f"http://127.0.0.1:{port}/hello", timeout=30)
        assert response.json() == {"hello": "world"}
        assert response.headers["date"].endswith(" GMT")  # uvicorn's Date header, kept by the housekeeping tick
        process.send_signal(signal.SIGTERM)
        # uvicorn raises the signal again once it has shut down gracefully, as an unhandled SIGTERM would end.
        assert process.wait(timeout=30) == -signal.SIGTERM  # a deadline, not a speed check
        assert "Finished server process" in log.read_text()  # the lifespan's shutdown ran
    finally:
        terminate(process, timeout=0)
