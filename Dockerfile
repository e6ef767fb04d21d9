# sessiond server image: `docker build -t sessiond .`
# Build stage: compiles TypeScript with the full dev toolchain.
FROM node:24 AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would build before the sources are copied, and
# no install script is needed to compile (buf only regenerates gen/).
# `npm install` rather than `npm ci`: the lock file holds only the optional
# platform packages of the machine that wrote it; the versions stay locked.
RUN npm install --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
COPY ui ./ui
RUN npm run build

# Runtime stage: production dependencies and the compiled output only.
FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    SESSIOND_STORE=sqlite:/data/sessiond.db
WORKDIR /app
COPY package.json package-lock.json ./
# The optional @google/adk peer dependency is not installed: the server never loads it.
RUN npm install --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# SQLite data lives in a volume the unprivileged user owns.
RUN mkdir /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 50051
ENTRYPOINT ["node", "bin/sessiond.js"]
CMD ["serve", "--host", "0.0.0.0"]
