# mcpo-ts as a container: docs/OPERATIONS.md, "Container image".
#   docker build -t mcpo-ts .
#   docker run -p 8000:8000 -v "$PWD/config.json:/config/config.json:ro" mcpo-ts

# Build: every dependency (the TypeScript compiler, Swagger UI's files), compiled to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; no dependency needs its install script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/copy-swagger-ui.mjs ./scripts/
COPY src ./src
RUN npm run build

# Run: production dependencies and the compiled code only, as the unprivileged user `node` (uid 1000).
FROM node:20-bookworm-slim
# tini as PID 1: it reaps the orphans that stdio servers started through npx, uvx or sh leave behind, and hands
# SIGTERM to the proxy, which drains and stops its servers (a kubelet needs no `--init`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.* \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8000
# Liveness only (the process serves): readiness is /readyz, for an orchestrator to poll. Node has fetch; the slim
# image has no curl. A port other than 8000, or TLS, needs its own HEALTHCHECK.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:8000/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["--host", "0.0.0.0", "--port", "8000", "--config", "/config/config.json"]
