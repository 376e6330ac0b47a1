"""deploy/: the container image, the compose file and the Kubernetes manifest, checked as files.

Building the image needs a registry for its Debian base, so the files are checked here
without building: each parses, names what the others expect, and HAProxy accepts both
of its configurations (``make serve``'s and the containers').
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
sys.path.insert(0, str(DEPLOY))

import serve  # noqa: E402


def _haproxy() -> str:
    path = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.access(path, os.X_OK):
        pytest.fail("HAProxy is not installed: `make haproxy` (Debian: apt-get install haproxy)")
    return path


def _haproxy_accepts(text: str, tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    out = subprocess.run(
        [_haproxy(), "-c", "-f", str(cfg)],
        capture_output=True,
        text=True,
        env={**os.environ, "COOKIE_KEY": "test"},
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_haproxy_accepts_make_serves_configuration(tmp_path):
    gz = tmp_path / "gz"
    gz.mkdir()
    (gz / "static.map").write_text("/static/js/a.js 1\n")
    workers = [("w1", 9001), ("w2", 9002)]
    text = serve.haproxy_config("127.0.0.1", 8080, workers, tmp_path / "s", gz)
    _haproxy_accepts(text, tmp_path)  # the Lua service and the map included
    assert "cookie op_worker insert" in text and "balance source" not in text
    assert "option httpchk GET /_stcore/health" in text


def test_the_containers_balancer_is_make_serves(tmp_path):
    text = (DEPLOY / "haproxy.cfg").read_text()
    assert text == serve.container_config(), "regenerate: python deploy/serve.py --container-config"
    # the image puts the Lua service and the compressed scripts where the file says
    image = (DEPLOY / "haproxy.Dockerfile").read_text()
    assert f"COPY deploy/static_gz.lua {serve.CONTAINER_LUA}" in image
    assert f"serve.py --precompress {serve.CONTAINER_STATIC_GZ}" in image
    assert f"COPY --from=scripts {serve.CONTAINER_STATIC_GZ} {serve.CONTAINER_STATIC_GZ}" in image
    assert f"PLAYGROUND_STATIC_GZ={serve.CONTAINER_STATIC_GZ}" in image
    (tmp_path / "static.map").write_text("/static/js/a.js 1\n")
    local = text.replace(serve.CONTAINER_LUA, str(serve.LUA))
    _haproxy_accepts(local.replace(serve.CONTAINER_STATIC_GZ, str(tmp_path)), tmp_path)


def test_the_balancers_image_compresses_the_plotly_js_the_app_serves(tmp_path):
    # the balancer's image runs serve.py away from the repository: lay its /build out as
    # the image's COPY lines do and ask it which file it would compress, under what URL
    from ui import race_chart

    image = (DEPLOY / "haproxy.Dockerfile").read_text()
    copied = re.findall(r"^COPY (--from=\S+ )?(.+) (/build/\S*)$", image, re.M)
    assert copied
    for stage, sources, dest in copied:
        for source in sources.split():
            if stage:  # the npm stage's node_modules: npm ci ran here too (make)
                source = "node_modules"
            here = ROOT / source
            if not here.exists():
                continue  # npm did not run: both then name the full bundle
            target = tmp_path / dest.lstrip("/")
            if dest.endswith("/"):
                target = target / here.name
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if here.is_dir() else shutil.copy)(here, target)
    build = tmp_path / "build"
    (script,) = re.findall(r"^RUN /venv/bin/python (/build/\S+) --precompress", image, re.M)
    asked = "import sys; sys.path.insert(0, sys.argv[1]); import serve; print(*serve.app_static())"
    out = subprocess.run(
        [sys.executable, "-I", "-c", asked, str(tmp_path / Path(script).parent.relative_to("/"))],
        cwd=build,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == [f"/app/static/{race_chart.bundle_name()}"]


def test_the_image_carries_the_whole_app_and_chromium():
    docker = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM debian:", docker, re.M)
    assert "chromium" in docker and "CHROMIUM_PATH=/usr/bin/chromium" in docker
    copied = set(re.findall(r"^COPY (\S+)", docker, re.M))
    # every top-level part of the app the entry file can import
    app_parts = {"app.py", "app_pages", "optim", "ui", ".streamlit", "requirements.txt"}
    assert app_parts <= copied, app_parts - copied
    assert "/_stcore/health" in docker


def test_compose_runs_replicas_behind_the_balancer():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    app, balancer = compose["services"]["app"], compose["services"]["balancer"]
    assert app["build"]["dockerfile"] == "deploy/Dockerfile"
    assert "replicas" in app["deploy"]
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in app["environment"]
    assert (ROOT / balancer["build"]["dockerfile"]).exists()
    assert "COPY deploy/haproxy.cfg" in (ROOT / balancer["build"]["dockerfile"]).read_text()
    assert "server-template app" in (DEPLOY / "haproxy.cfg").read_text()  # the service's name
    assert any(str(p).endswith(":8080") for p in balancer["ports"])


def test_kubernetes_deployment_service_and_sticky_ingress():
    docs = {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text())}
    deployment, service, ingress = docs["Deployment"], docs["Service"], docs["Ingress"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    (container,) = pod["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert any(e["name"] == "STREAMLIT_SERVER_COOKIE_SECRET" for e in container["env"])
    port_names = {p["name"] for p in container["ports"]}

    assert service["spec"]["selector"] == labels
    (sport,) = service["spec"]["ports"]
    assert sport["targetPort"] in port_names

    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    # map workers: a set number, not the node's cores (no CPU limit to read a quota from)
    (app,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in app["env"]}
    assert 1 <= int(env["PLAYGROUND_MAP_WORKERS"]) <= 2
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # websockets
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] == sport["name"]


def test_the_race_charts_plotly_js_is_readable_by_the_apps_user(tmp_path, monkeypatch):
    # the image copies it as root and serves it as another user: a private file fails
    from ui import race_chart

    monkeypatch.setattr(race_chart, "STATIC", tmp_path / "static")
    name = race_chart.ensure_bundle()
    copy = tmp_path / "static" / name
    assert copy.read_bytes() == race_chart._SOURCE.read_bytes()
    assert copy.stat().st_mode & 0o444 == 0o444
    copy.chmod(0o600)  # as an earlier version left it
    assert race_chart.ensure_bundle() == name
    assert copy.stat().st_mode & 0o444 == 0o444


def test_the_balancer_serves_the_race_charts_plotly_js_under_the_apps_name():
    from ui import race_chart

    [(url, source)] = serve.app_static().items()
    assert url == f"/app/static/{race_chart.bundle_name()}"
    assert (race_chart.STATIC / race_chart.bundle_name()).read_bytes() == source.read_bytes()
    assert "acl static path_beg /static/ /app/static/" in serve.container_config()
    # the app's image copies it while the folder is writable, before the app's user
    docker = (DEPLOY / "Dockerfile").read_text()
    made = docker.index('RUN /venv/bin/python -c "import ui.race_chart"')
    assert docker.index("COPY ui ui") < made < docker.index("USER playground")
    # with the cartesian build that npm fetched in a stage of its own
    assert docker.index("RUN npm ci") < docker.index("COPY --from=plotlyjs") < made


def test_the_race_chart_serves_the_cartesian_build_only_when_it_is_the_same_release(
    tmp_path, caplog
):
    from ui import plotly_bundle

    def bundle(name, release, kind=""):
        path = tmp_path / name
        path.write_text(f"/**\n* plotly.js {kind}v{release}\n* Copyright\n*/\n(function(){{}})")
        return path

    full = bundle("plotly.min.js", "4.1.1")
    cartesian = bundle("plotly-cartesian.min.js", "4.1.1", "(cartesian - minified) ")
    assert plotly_bundle.source(cartesian, full) == cartesian
    assert plotly_bundle.name(cartesian) == "plotly-cartesian-4.1.1.min.js"
    assert plotly_bundle.name(full) == "plotly-4.1.1.min.js"
    # a cartesian build of another release would draw figures made for this one: not used
    other = bundle("plotly-cartesian-old.min.js", "4.0.0", "(cartesian - minified) ")
    assert plotly_bundle.source(other, full) == full
    assert "4.0.0" in caplog.text and "full bundle" in caplog.text
    assert plotly_bundle.source(tmp_path / "missing.min.js", full) == full  # npm never ran
    # the real files: the plotly package's bundle states its release, and the pinned
    # cartesian build (where installed) is that release
    assert plotly_bundle.version(plotly_bundle.FULL)
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert pinned["plotly.js-cartesian-dist-min"] == plotly_bundle.version(plotly_bundle.FULL), (
        "the plotly package draws for another plotly.js: pin that release of "
        "plotly.js-cartesian-dist-min in package.json and package-lock.json (npm install)"
    )


def test_static_files_are_compressed_once_and_listed(tmp_path):
    src = tmp_path / "static"
    (src / "js").mkdir(parents=True)
    (src / "media").mkdir()
    big = b"".join(b"function f%d(a){return a*%d}\n" % (i, i) for i in range(6000))
    assert len(big) > serve.BIG
    (src / "js" / "big.abc.js").write_bytes(big)
    (src / "css").mkdir()
    (src / "css" / "small.def.css").write_bytes(b"body{margin:0}" * 20)
    (src / "media" / "font.ghi.woff2").write_bytes(os.urandom(2000))
    cache = tmp_path / "cache"
    cache.mkdir()
    folder = serve.precompress(src, cache)
    rows = [line.split("\t") for line in (folder / "manifest.tsv").read_text().splitlines()]
    listed = {url: (ctype, name) for url, ctype, name in rows}
    assert set(listed) == {"/static/js/big.abc.js", "/static/css/small.def.css"}  # not fonts
    assert listed["/static/js/big.abc.js"][0].startswith("text/javascript")
    assert listed["/static/css/small.def.css"][0].startswith("text/css")
    for url, (_, name) in listed.items():
        packed = (folder / name).read_bytes()
        assert gzip.decompress(packed) == (src / url.removeprefix("/static/")).read_bytes()
    assert len((folder / listed["/static/js/big.abc.js"][1]).read_bytes()) < len(big) / 5
    assert (folder / "static.map").read_text().split() == [w for url in listed for w in (url, "1")]
    stamp = (folder / "manifest.tsv").stat().st_mtime_ns
    assert serve.precompress(src, cache) == folder  # made once
    assert (folder / "manifest.tsv").stat().st_mtime_ns == stamp
    cfg = serve.haproxy_config("127.0.0.1", 8600, [("w1", 8601)], None, folder)
    assert f"lua-load {serve.LUA}" in cfg and str(folder / "static.map") in cfg
