# sessiond server image: `docker build -t sessiond .`
#
# The default command serves on 0.0.0.0:50051 with SQLite in the /data volume.
# Bound to a non-loopback address, sessiond starts only with API keys
# (SESSIOND_API_KEYS or SESSIOND_AUTH_KEYS_FILE) or an explicit opt-out for a
# private network (SESSIOND_INSECURE=true or `serve --insecure`); without
# either it exits 1 saying so. See docs/operations.md#docker.

# Build stage: compiles TypeScript and the viewer with the full dev toolchain.
FROM node:24 AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY clients/typescript/package.json ./clients/typescript/
# --ignore-scripts: "prepare" would build before the sources are copied.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY clients/typescript/tsconfig.json ./clients/typescript/
COPY gen ./gen
COPY src ./src
COPY ui ./ui
RUN npm run build

# Runtime stage: production dependencies and the compiled output only.
FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    SESSIOND_HOST=0.0.0.0 \
    SESSIOND_STORE=sqlite:/data/sessiond.db
WORKDIR /app
COPY package.json package-lock.json ./
COPY clients/typescript/package.json ./clients/typescript/
# The optional @google/adk peer dependency is not installed: the server never loads it.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# SQLite data lives in a volume the unprivileged user owns.
RUN mkdir /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 50051
# /readyz answers 200 while the store is reachable and the server is not
# draining (plain HTTP; an image serving TLS needs its own check).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.SESSIOND_PORT || process.env.PORT || 50051}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/sessiond.js"]
CMD ["serve"]
