"""Sweep workers end with their sweep.

joblib's workers are separate processes. When the sweep's main process is killed outright
(SIGKILL, a crashed terminal), nothing tells them: they are re-parented and train on for hours.
Each worker therefore watches its parent and ends itself within a second of losing it. The main
process names itself in ``SWEEP_PID`` when the sweep starts, so a job that runs inside the main
process (one job at a time) never watches anything.

A worker that never got a job has no such watch, and joblib keeps an idle worker for 300 s: the
main process also starts a small reaper, outside its process tree's signals, that notes the sweep's
descendants while the main process lives and kills those left once it is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

SWEEP_PID = "EMBTRANS_SWEEP_PID"
_watching = False


def mark_sweep_process() -> None:
    """Called in the main process as the sweep starts, before any worker exists."""
    os.environ[SWEEP_PID] = str(os.getpid())
    start_reaper()


REAPER = """
import os, sys, time, psutil
main, poll = psutil.Process(int(sys.argv[1])), float(sys.argv[2])
seen = {}
try:
    while main.is_running() and main.status() != psutil.STATUS_ZOMBIE:
        seen.update((p.pid, p) for p in main.children(recursive=True) if p.pid != os.getpid())
        time.sleep(poll)
except psutil.NoSuchProcess:
    pass
for process in seen.values():
    try:
        process.kill()
    except psutil.Error:
        pass
"""


def start_reaper(poll_seconds: float = 0.5) -> None:
    """The reaper of the module's docstring, in its own session and with no stdout or stderr, so it
    neither receives the terminal's Ctrl-C nor keeps a caller's pipes open."""
    subprocess.Popen([sys.executable, "-c", REAPER, str(os.getpid()), str(poll_seconds)], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)


def exit_when_orphaned(poll_seconds: float = 0.5) -> None:
    """In a worker whose parent is the sweep's main process: end this process once that parent is gone."""
    global _watching
    sweep_pid = os.environ.get(SWEEP_PID)
    if _watching or not sweep_pid or os.getpid() == int(sweep_pid) or os.getppid() != int(sweep_pid):
        return
    _watching = True

    def watch() -> None:
        while os.getppid() == int(sweep_pid):
            time.sleep(poll_seconds)
        # No finally blocks or atexit hooks: the job's results are incomplete either way, and its
        # finished files were written atomically.
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="orphan-guard", daemon=True).start()
