# The balancer for deploy/compose.yaml: Debian's HAProxy with deploy/haproxy.cfg, and
# Streamlit's scripts and the race chart's plotly.js compressed once at build time
# (deploy/static_gz.lua serves them).
# Streamlit comes from the same requirements.txt as the app's image; should the two
# ever differ, the scripts' names do not match and HAProxy falls back to compressing
# and caching what the app serves.
# The race chart's plotly.js build (package.json), as the app's image fetches it.
FROM node:22-bookworm-slim AS plotlyjs
WORKDIR /js
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM debian:bookworm-slim AS scripts
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /build/requirements.txt
RUN python3 -m venv /venv && /venv/bin/pip install --no-cache-dir -r /build/requirements.txt
# serve.py names the app's plotly.js as the app does (ui/plotly_bundle.py), next to it
COPY deploy/serve.py /build/deploy/serve.py
COPY ui/__init__.py ui/plotly_bundle.py /build/ui/
COPY --from=plotlyjs /js/node_modules /build/node_modules
RUN /venv/bin/python /build/deploy/serve.py --precompress /srv/static-gz

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY --from=scripts /srv/static-gz /srv/static-gz
COPY deploy/static_gz.lua /etc/haproxy/static_gz.lua
COPY deploy/haproxy.cfg /etc/haproxy/haproxy.cfg
ENV PLAYGROUND_STATIC_GZ=/srv/static-gz
USER haproxy
EXPOSE 8080
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
