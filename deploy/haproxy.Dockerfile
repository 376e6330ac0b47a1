# The balancer for deploy/compose.yaml: Debian's HAProxy with deploy/haproxy.cfg.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/haproxy.cfg /etc/haproxy/haproxy.cfg
USER haproxy
EXPOSE 8080
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
