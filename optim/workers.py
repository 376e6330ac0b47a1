"""Run a function in warm worker processes, each call under a hard time limit.

Why processes: SymPy holds the GIL for as long as it computes, so a slow formula analysed in a
thread of the server stalls every other session. A worker process has a GIL of its own, and it
can be killed (a thread cannot) when it runs over.

How:

* A :class:`WorkerPool` keeps ``size`` workers started with ``python -c`` (never a ``fork`` of
  the multi-threaded server). Each imports the target function, answers one warm-up call (so
  SymPy's first-use costs are paid before a user waits), then serves calls one at a time over
  its stdin and stdout: a length-prefixed pickle each way.
* :meth:`WorkerPool.call` takes an idle worker, or raises :class:`Busy` when none frees up
  within the time limit (a class typing at once gets an answer, not a queue). It waits for the
  reply in ``poll`` without holding the GIL; past the limit it kills the worker, reaps it
  (no zombie) and starts a replacement in the background, then raises :class:`TimedOut`.
* :meth:`WorkerPool.call_each` gives one argument to each of several idle workers at once
  (the parts of one big computation, on as many cores), or raises :class:`Busy` at once.
* A pool made with ``progress=True`` calls ``target(arg, report)``: ``report(value)`` sends
  ``value`` to the ``on_progress`` given to :meth:`WorkerPool.call_each`, ahead of the reply
  (how far a long call has come). The reply never depends on it.
* Workers run at a lower priority (``nice``), so the server's own threads win the CPU, and
  with a CPU-time limit per call (``cpu_limit``, per pool) as a backstop: a worker whose
  server died mid-call still stops. They ignore Ctrl-C and exit when their stdin closes
  (the server has gone).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import math
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HEADER = struct.Struct("!Q")  # the length of the pickle that follows
NICE = 10  # workers yield the CPU to the server's own threads
CPU_BACKSTOP_S = 5  # per call, in CPU seconds (a pool's default): only matters when nobody
# is left to kill it
PARENT_CHECK_S = 1.0  # how often an idle worker checks that its server still exists
BOOT_S = 60.0  # a worker's start-up and warm-up call (a first SymPy import is slow)
_ROOT = str(Path(__file__).resolve().parent.parent)  # the folder that holds the optim package


class Busy(Exception):
    """No worker became free within the time limit."""


class TimedOut(Exception):
    """The call ran over its time limit; its worker was killed.

    ``waited``: the seconds of the limit spent waiting for a free worker.
    """

    waited = 0.0


class WorkerDied(Exception):
    """The worker exited during the call (a crash, or the operating system killed it)."""


# -- the worker process --------------------------------------------------------------------------
def _serve(target: str, cpu_limit: float = CPU_BACKSTOP_S, progress: bool = False) -> None:
    """A worker's main loop: read an argument, call ``target`` on it, write back the reply.

    With ``progress``, ``target(arg, report)``: each ``report(value)`` is written ahead of
    the reply, as a message of its own."""
    server = os.getppid()
    module, name = target.split(":")
    fn: Callable[[Any], Any] = getattr(importlib.import_module(module), name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server; we follow stdin
    os.nice(NICE)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the replies
    requests = os.fdopen(0, "rb")

    def send(kind: str, value: Any) -> None:
        message = pickle.dumps((kind, value))
        replies.write(_HEADER.pack(len(message)) + message)
        replies.flush()

    def report(value: Any) -> None:
        send("progress", value)

    with contextlib.suppress(ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    while True:
        if not _await_request(0, server):
            return
        arg = _read(requests)
        if arg is _EOF:
            return
        _limit_cpu(cpu_limit)
        try:
            reply = ("ok", fn(arg, report) if progress else fn(arg))
        except BaseException as err:  # the caller decides; the worker lives on
            reply = ("error", f"{type(err).__name__}: {err}")
        send(*reply)


def _await_request(fd: int, server: int) -> bool:
    """Wait for the next request; ``False`` once the server process has gone.

    A closed pipe ends the wait too (the read that follows sees the end), but a pipe can
    outlive its server: a process forked from the server holds a copy of its end. So the
    worker also checks, every PARENT_CHECK_S, that its parent is still the server.
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while not poller.poll(PARENT_CHECK_S * 1000):
        if os.getppid() != server:
            return False
    return True


def _limit_cpu(seconds: float) -> None:
    """Let this call use at most ``seconds`` more CPU seconds (then SIGXCPU ends us)."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime + 1 + seconds)
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass  # no such limit here: the server's kill is the only limit


_EOF = object()


def _read(stream: Any) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return _EOF
    return pickle.loads(stream.read(_HEADER.unpack(header)[0]))


# -- the server's side ---------------------------------------------------------------------------
class _Worker:
    def __init__(self, target: str, cpu_limit: float, progress: bool) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
        args = f"{target!r}, {float(cpu_limit)!r}, {bool(progress)!r}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", f"from optim.workers import _serve; _serve({args})"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.fd = self.proc.stdout.fileno()
        self._buffer = bytearray()  # bytes of the messages not yet read whole

    def send(self, payload: bytes) -> None:
        """Send a request: ``payload`` is the argument, pickled."""
        try:
            self.proc.stdin.write(_HEADER.pack(len(payload)) + payload)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied("the worker had exited") from None

    def call(self, arg: Any, deadline: float) -> Any:
        self.send(pickle.dumps(arg))
        return _collect([self], deadline, None)[0]

    def receive(self) -> list[tuple[str, Any]]:
        """The messages that came in whole with what the pipe holds now (call when readable)."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise WorkerDied(f"the worker exited with code {self.proc.wait()}")
        self._buffer += chunk
        out = []
        while len(self._buffer) >= _HEADER.size:
            size = _HEADER.unpack_from(self._buffer)[0]
            if len(self._buffer) < _HEADER.size + size:
                break
            out.append(pickle.loads(self._buffer[_HEADER.size : _HEADER.size + size]))
            del self._buffer[: _HEADER.size + size]
        return out

    def kill(self) -> None:
        """Kill and reap: no zombie is left behind."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()


_PENDING = object()  # a reply not yet in


def _collect(
    workers: list[_Worker],
    deadline: float,
    on_progress: Callable[[int, Any], Any] | None,
    replies: list | None = None,
) -> list:
    """Each worker's reply to the request it was sent, waiting in ``poll`` (GIL released)
    until ``deadline``; ``on_progress(i, value)`` for worker ``i``'s reports meanwhile.

    ``replies`` (filled in place) tells a caller that catches an exception which workers
    had answered (:data:`_PENDING` for the others).
    """
    replies = [_PENDING] * len(workers) if replies is None else replies
    poller = select.poll()  # not select(): a busy server has file numbers above 1024
    index = {}
    for i, worker in enumerate(workers):
        poller.register(worker.fd, select.POLLIN)
        index[worker.fd] = i
    left = len(workers)
    while left:
        remaining = deadline - time.monotonic()
        events = poller.poll(remaining * 1000) if remaining > 0 else []
        if not events:
            raise TimedOut
        for fd, _ in events:
            i = index[fd]
            for kind, value in workers[i].receive():
                if kind == "progress":
                    if on_progress is not None:
                        on_progress(i, value)
                    continue
                replies[i] = value
                poller.unregister(fd)
                left -= 1
                if kind != "ok":  # only when the call failed outside the target's own care
                    raise WorkerDied(value)
    return replies


class WorkerPool:
    """``size`` warm processes that call ``target`` ("module:function") on one argument each.

    ``warm_up`` is the argument of each worker's first call, made before it takes real calls.
    ``cpu_limit``: CPU seconds a call may use, the backstop for a worker whose server has
    gone. ``progress``: the target is called as ``target(arg, report)`` (see the module).
    """

    def __init__(
        self,
        target: str,
        size: int,
        warm_up: Any,
        cpu_limit: float = CPU_BACKSTOP_S,
        progress: bool = False,
    ) -> None:
        if not math.isfinite(cpu_limit) or cpu_limit <= 0:
            # it is written into the worker's ``python -c`` line: inf or nan would not run
            raise ValueError(f"cpu_limit must be a positive number of seconds, not {cpu_limit}")
        self.target, self.size, self.warm_up = target, size, warm_up
        self.cpu_limit, self.progress = cpu_limit, progress
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._alive: set[_Worker] = set()  # idle, busy or booting
        self._booting = 0
        self._ready_once = False  # a worker has finished booting at least once
        self._last_failure = -1e9
        self._closed = False
        atexit.register(self.close)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """In a process forked from this one: the workers are the parent's, not ours.

        Close our copies of their pipes (so that they still see the end when the parent
        goes) and start afresh; a pool used in the child boots workers of its own.
        """
        for worker in self._alive:
            for stream in (worker.proc.stdin, worker.proc.stdout):
                with contextlib.suppress(OSError, ValueError):
                    stream.close()
        self._cond = threading.Condition()
        self._idle, self._alive, self._booting = [], set(), 0
        self._ready_once = False

    def start(self) -> None:
        """Top the pool up to ``size`` workers; they boot in the background."""
        with self._cond:
            if self._closed or time.monotonic() - self._last_failure < 5.0:
                return  # a worker that cannot boot must not be relaunched in a tight loop
            missing = self.size - len(self._alive)
            for _ in range(missing):
                worker = _Worker(self.target, self.cpu_limit, self.progress)
                self._alive.add(worker)
                self._booting += 1
                threading.Thread(target=self._boot, args=(worker,), daemon=True).start()

    def _boot(self, worker: _Worker) -> None:
        try:
            worker.call(self.warm_up, time.monotonic() + BOOT_S)
        except (TimedOut, WorkerDied, OSError, pickle.UnpicklingError, EOFError):
            worker.kill()
            with self._cond:
                self._alive.discard(worker)
                self._last_failure = time.monotonic()
                self._booting -= 1
                self._cond.notify_all()
            return
        with self._cond:
            self._booting -= 1
            self._ready_once = True
            if self._closed:
                worker.kill()
            else:
                self._idle.append(worker)
            self._cond.notify_all()

    def wait_ready(self, timeout: float = BOOT_S, every: bool = False) -> bool:
        """Start the pool if needed and wait until a first worker (or ``every`` one) is idle."""
        self.start()

        def ready() -> bool:
            if every:
                return len(self._idle) == self.size
            return self._ready_once or (self._booting == 0 and not self._idle)

        with self._cond:
            return self._cond.wait_for(ready, timeout) and self._ready_once

    def call(self, arg: Any, timeout: float) -> Any:
        """``target(arg)`` in a worker, answered within ``timeout`` seconds or killed.

        Raises :class:`Busy`, :class:`TimedOut` or :class:`WorkerDied`.
        """
        deadline = time.monotonic() + timeout
        self.start()
        with self._cond:
            if not self._cond.wait_for(lambda: self._idle, max(0.0, deadline - time.monotonic())):
                raise Busy
            worker = self._idle.pop()
        waited = time.monotonic() - (deadline - timeout)
        try:
            value = worker.call(arg, deadline)
        except BaseException as err:
            if isinstance(err, TimedOut):
                err.waited = waited
            self._discard(worker)
            self.start()  # the replacement boots in the background
            raise
        self._release(worker)
        return value

    def call_each(
        self, args: list, timeout: float, on_progress: Callable[[int, Any], Any] | None = None
    ) -> list:
        """``[target(a) for a in args]``, each in a worker of its own, all at once: the
        parts of one computation on as many cores. Answered within ``timeout`` seconds, or
        the workers still busy are killed.

        Never waits for a worker: raises :class:`Busy` at once unless ``len(args)`` are
        idle (the caller computes elsewhere rather than queue behind another's call).
        ``on_progress(i, value)`` for each report of the worker given ``args[i]``; it runs
        in the caller's thread. Raises :class:`Busy`, :class:`TimedOut` or
        :class:`WorkerDied`, and whatever ``on_progress`` raises (the workers still busy
        are killed then too).
        """
        deadline = time.monotonic() + timeout
        payloads = [pickle.dumps(arg) for arg in args]  # one that cannot be sent costs no worker
        self.start()
        with self._cond:
            if len(self._idle) < len(args):
                raise Busy
            workers = [self._idle.pop() for _ in args]
        replies = [_PENDING] * len(workers)
        try:
            for worker, payload in zip(workers, payloads, strict=True):
                worker.send(payload)
            _collect(workers, deadline, on_progress, replies)
        except BaseException:
            for worker, reply in zip(workers, replies, strict=True):
                if reply is _PENDING:  # still computing, or dead: kill and replace
                    self._discard(worker)
                else:
                    self._release(worker)
            self.start()  # the replacements boot in the background
            raise
        for worker in workers:
            self._release(worker)
        return replies

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._cond:
            self._alive.discard(worker)

    def idle(self) -> int:
        """How many workers are waiting for a call."""
        with self._cond:
            return len(self._idle)

    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        with self._cond:
            return [w.proc.pid for w in self._alive]

    def close(self) -> None:
        """Kill every worker (also run at exit)."""
        with self._cond:
            self._closed = True
            workers = list(self._alive)
            self._alive.clear()
            self._idle.clear()
        for worker in workers:
            worker.kill()
