"""``make serve``: n Streamlit processes behind HAProxy, started and stopped as one.

A Streamlit server is one Python process, so one core. For a class, ``make serve
WORKERS=n PORT=p`` starts n ``streamlit run`` workers on free loopback ports and HAProxy
on port p in front of them:

* sticky sessions by a cookie HAProxy sets (``op_worker``), never by the client's
  address: a class behind one school NAT address still spreads over the workers, and
  a browser's page, its websocket and its downloads all reach the worker that holds
  its session;
* websockets pass through (a long tunnel timeout: a student may sit on a page);
* health checks on ``/_stcore/health``: a worker that stops answering gets no new
  students;
* Streamlit's static files (content-hashed, served ``immutable``): the compressible
  ones (JavaScript, CSS) are compressed once, as tightly as gzip allows (Zopfli), the
  first time ``make serve`` starts (kept in ``.serve-cache/``) and answered by HAProxy
  from memory (``deploy/static_gz.lua``); the rest (fonts, images) are kept in
  HAProxy's cache. Either way no worker serves a static file more than once, and a
  student downloads them compressed.

Ctrl-C (or SIGTERM) stops HAProxy and every worker with everything they started (the
formula workers, the PNG exporter's Chromium): each worker runs in a process group of
its own, and the whole group is stopped. A worker that dies is started again.

    python deploy/serve.py --workers 2 --port 8501
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COOKIE = "op_worker"
STOP_TIMEOUT_S = 10.0
LUA = Path(__file__).resolve().parent / "static_gz.lua"
# what gzip shrinks; fonts and images are compressed already
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


def streamlit_static() -> Path:
    """Streamlit's folder of static files (served under ``/static/``)."""
    import streamlit

    return Path(streamlit.__file__).resolve().parent / "static" / "static"


BIG = 64_000  # bytes: files this large get Zopfli's slower, tighter compression


def squeeze(raw: bytes) -> bytes:
    """``raw`` in gzip format: Zopfli for large files (one iteration: ~4 % smaller than
    gzip -9, at about 2 s a megabyte), gzip level 9 for the rest or without Zopfli."""
    if len(raw) >= BIG:
        try:
            from zopfli.gzip import compress
        except ImportError:  # the compose image's balancer, or an older environment
            pass
        else:
            return compress(raw, numiterations=1)
    return gzip.compress(raw, compresslevel=9, mtime=0)


def app_static() -> dict[str, Path]:
    """The app's own static files (``app/static/``, see ``ui/race_chart.py``): the race
    chart's plotly.js, under the name the app serves it by (``ui/plotly_bundle.py``)."""
    root = str(ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    from ui import plotly_bundle  # plotly only: the app's requirement, no Streamlit

    source = plotly_bundle.source()
    return {f"/app/static/{plotly_bundle.name(source)}": source}


def precompress(source: Path, cache: Path, extra: dict[str, Path] | None = None) -> Path:
    """Every compressible file under ``source`` (served under ``/static/``) and the
    ``extra`` files (URL path: file), compressed by :func:`squeeze`, in a folder under
    ``cache`` named for their contents (made once; later starts reuse it), with
    ``manifest.tsv`` (URL path, content type, file) and ``static.map`` (the URL paths,
    for HAProxy's ``map`` converter). Returns that folder."""
    urls = {
        "/static/" + p.relative_to(source).as_posix(): p
        for p in sorted(source.rglob("*"))
        if p.is_file() and p.suffix in CONTENT_TYPES
    }
    urls.update(extra or {})
    files = list(urls.values())
    stamp = f"{len(files)}-{max((p.stat().st_mtime_ns for p in files), default=0)}-z{BIG}"
    folder = cache / f"static-gz-{stamp}"
    if (folder / "static.map").exists():
        return folder
    building = Path(tempfile.mkdtemp(prefix="static-gz-", dir=cache))
    manifest, paths = [], []
    for i, (url, p) in enumerate(urls.items()):
        raw = p.read_bytes()
        packed = squeeze(raw)
        if len(packed) >= len(raw):
            continue  # left to HAProxy's cache, uncompressed
        name = f"{i}.gz"
        (building / name).write_bytes(packed)
        manifest.append(f"{url}\t{CONTENT_TYPES[p.suffix]}\t{name}\n")
        paths.append(f"{url} 1\n")
    (building / "manifest.tsv").write_text("".join(manifest))
    (building / "static.map").write_text("".join(paths))
    try:
        building.rename(folder)
    except OSError:  # another start made it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return folder


def haproxy_config(
    address: str,
    port: int,
    workers: list[tuple[str, int]],
    control: Path | None = None,
    static_gz: Path | None = None,
) -> str:
    """HAProxy's configuration: ``workers`` are (name, loopback port) pairs; ``control``,
    a Unix socket for HAProxy's runtime commands (``show stat``: sessions per worker);
    ``static_gz``, a folder made by :func:`precompress` (HAProxy must then run with
    ``PLAYGROUND_STATIC_GZ`` set to it)."""
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{wport} check cookie {name}" for name, wport in workers
    )
    return CONFIG.format(
        header="# written by deploy/serve.py for this run",
        stats="\n".join(
            ([f"    stats socket {control} mode 600 level operator"] if control else [])
            + ([f"    lua-load {LUA}"] if static_gz else [])
        ),
        precompressed=PRECOMPRESSED.format(map=static_gz / "static.map") if static_gz else "",
        resolvers="",
        address=address,
        port=port,
        cookie=f"{COOKIE} insert indirect nocache httponly",
        servers=servers,
    )


# where deploy/haproxy.Dockerfile puts the Lua service and the compressed scripts
CONTAINER_LUA = "/etc/haproxy/static_gz.lua"
CONTAINER_STATIC_GZ = "/srv/static-gz"


def container_config() -> str:
    """The same balancer for ``deploy/compose.yaml`` (``deploy/haproxy.cfg``): the app's
    replicas found by Docker's DNS, each replica's cookie derived from ``$COOKIE_KEY``,
    the scripts compressed when the balancer's image is built."""
    return CONFIG.format(
        header="# deploy/compose.yaml's balancer; made by `python deploy/serve.py --container-config`",
        stats=f"    lua-load {CONTAINER_LUA}",
        precompressed=PRECOMPRESSED.format(map=f"{CONTAINER_STATIC_GZ}/static.map"),
        resolvers=CONTAINER_RESOLVERS,
        address="*",
        port=8080,
        cookie=f"{COOKIE} insert indirect nocache httponly dynamic\n"
        '    dynamic-cookie-key "${COOKIE_KEY}"',
        servers="    server-template app 1-8 app:8501 check resolvers docker init-addr none",
    )


# JavaScript and CSS compressed at level 9, from memory, for browsers that take gzip
PRECOMPRESSED = """\
    acl gzip_ok req.hdr(accept-encoding) -m sub -i gzip
    acl precompressed path,map({map}) -m found
    http-request use-service lua.static_gz if static gzip_ok precompressed
"""

CONTAINER_RESOLVERS = """
resolvers docker
    nameserver dns 127.0.0.11:53
    hold valid 10s
"""


# Static files take a detour through a second, internal frontend that compresses them,
# so that the cache (in front of it) keeps the compressed copy: HAProxy's compression
# filter always runs after a cache filter of the same proxy, which would store the
# uncompressed file and compress it again for every student.
CONFIG = """\
{header}
global
    maxconn 4096
{stats}

defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 60s
    timeout server 120s
    # an open websocket: a student may leave the page open for a lesson
    timeout tunnel 8h
    timeout http-request 15s

cache static
    total-max-size 256
    # Plotly's bundle, the largest file, is ~4.7 MB before compression
    max-object-size 16000000
    # the files are content-hashed: a new Streamlit release brings new names
    max-age 86400
    process-vary on
{resolvers}
frontend playground
    bind {address}:{port}
    # Streamlit's files and the app's own (app/static/: the race chart's plotly.js)
    acl static path_beg /static/ /app/static/
{precompressed}    use_backend static_files if static
    default_backend streamlit

backend static_files
    http-request cache-use static
    # any worker serves the same files: no sticky cookie, and no "private" that the
    # cookie's nocache adds when it inserts one: either keeps a file out of the cache.
    # Every file here is named for its content, so it may be kept for good.
    http-response del-header set-cookie
    http-response set-header cache-control "public, max-age=31536000, immutable" if {{ status 200 }}
    http-response cache-store static
    server compressor abns@playground-compress-{port}

frontend compress
    bind abns@playground-compress-{port}
    default_backend streamlit

backend streamlit
    balance leastconn
    # sticky by cookie (a class behind one NAT address still spreads out)
    cookie {cookie}
    option httpchk GET /_stcore/health
    http-check expect status 200
    default-server inter 2s fall 3 rise 1
    compression algo gzip
    compression type text/html text/css text/javascript application/javascript application/json image/svg+xml font/ttf
{servers}
"""


def show_stat(control: str) -> list[dict[str, str]]:
    """HAProxy's ``show stat`` through its control socket: one row per proxy and server,
    column name -> value (``pxname``, ``svname``, ``scur``, ``bout``, ...)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(control)
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    rows = data.decode().strip().splitlines()
    head = rows[0].lstrip("# ").split(",")
    return [dict(zip(head, row.split(","), strict=False)) for row in rows[1:]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _die_with_parent() -> None:
    """In the child, before exec: its own process group, and SIGTERM if we die."""
    os.setpgrp()
    with contextlib.suppress(Exception):  # Linux only; elsewhere Ctrl-C still stops all
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Worker:
    name: str
    port: int
    env: dict
    log: Path
    script: Path = ROOT / "app.py"
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(self.script),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads yet here)
            )

    def healthy(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/_stcore/health"
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False


def stop_group(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Stop a child and everything in its process group; kill what outlives the timeout."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # grandchildren that outlived their parent (a formula worker, Chromium)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


class Stop(Exception):
    """SIGTERM or SIGINT arrived."""


def _raise_stop(signum, frame) -> None:
    raise Stop(signal.Signals(signum).name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=0, help="Streamlit processes (0: one a core)")
    ap.add_argument("--port", type=int, default=8501, help="the port students open")
    ap.add_argument("--address", default="0.0.0.0", help="where HAProxy listens")
    ap.add_argument("--app", type=Path, default=ROOT / "app.py", help="the Streamlit script")
    ap.add_argument(
        "--container-config", action="store_true", help="print deploy/haproxy.cfg and stop"
    )
    ap.add_argument(
        "--precompress",
        type=Path,
        metavar="FOLDER",
        help="compress Streamlit's scripts and the app's plotly.js into FOLDER and stop "
        "(the balancer's image)",
    )
    args = ap.parse_args()
    if args.container_config:
        print(container_config(), end="")
        return 0
    if args.precompress:
        args.precompress.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=args.precompress.parent) as tmp:
            precompress(streamlit_static(), Path(tmp), app_static()).rename(args.precompress)
        return 0
    n = args.workers or os.cpu_count() or 1
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.access(haproxy, os.X_OK):
        print("serve: HAProxy is not installed (Debian: apt-get install haproxy)", file=sys.stderr)
        return 1

    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    run_dir = Path(tempfile.mkdtemp(prefix="playground-serve-"))
    # one cookie secret for all workers, so whatever a worker signs any worker accepts
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
    }
    workers = [
        Worker(f"w{i + 1}", free_port(), env, run_dir / f"worker-{i + 1}.log", args.app.resolve())
        for i in range(n)
    ]
    balancer: subprocess.Popen | None = None
    try:
        for w in workers:
            w.start()
        cache = ROOT / ".serve-cache"
        cache.mkdir(exist_ok=True)
        static_gz = precompress(streamlit_static(), cache, app_static())  # while workers start
        deadline = time.monotonic() + 120
        while not all(w.healthy() for w in workers):
            for w in workers:
                if w.proc is not None and w.proc.poll() is not None:
                    print(f"serve: worker {w.name} exited; its log: {w.log}", file=sys.stderr)
                    print(w.log.read_text()[-2000:], file=sys.stderr)
                    return 1
            if time.monotonic() > deadline:
                print("serve: workers did not start within 120 s", file=sys.stderr)
                return 1
            time.sleep(0.3)  # polling servers that are starting
        cfg = run_dir / "haproxy.cfg"
        control = run_dir / "haproxy.sock"
        names = [(w.name, w.port) for w in workers]
        cfg.write_text(haproxy_config(args.address, args.port, names, control, static_gz))
        balancer = subprocess.Popen(
            [haproxy, "-W", "-db", "-f", str(cfg)],
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PLAYGROUND_STATIC_GZ": str(static_gz)},
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        host = "localhost" if args.address in ("0.0.0.0", "::") else args.address
        while not _accepts(host, args.port):
            if balancer.poll() is not None:
                print(f"serve: HAProxy exited with code {balancer.returncode}", file=sys.stderr)
                return 1
            time.sleep(0.1)  # HAProxy is binding its port
        print(
            f"serve: {n} worker(s) behind HAProxy at http://{host}:{args.port}  "
            f"(logs in {run_dir}; Ctrl-C stops everything)",
            flush=True,
        )
        for w in workers:
            print(f"serve: worker {w.name} pid {w.proc.pid} port {w.port}", flush=True)
        print(f"serve: HAProxy pid {balancer.pid}, control socket {control}", flush=True)
        while True:
            if balancer.poll() is not None:
                print(f"serve: HAProxy exited with code {balancer.returncode}", file=sys.stderr)
                return 1
            for w in workers:
                if w.proc is not None and w.proc.poll() is not None:
                    print(f"serve: worker {w.name} exited; starting it again", file=sys.stderr)
                    stop_group(w.proc)
                    w.start()
            time.sleep(1.0)  # a supervisor's watch, not a wait for a result
    except Stop:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
        stop_group(balancer)
        for w in workers:
            stop_group(w.proc)
        print("serve: stopped", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
