# idc-bot: the long-running bot (Socket Mode by default; HTTP on PORT when SLACK_APP_TOKEN is absent).
# Build: docker build -t idc-bot .   Run: see README "Deploy to AWS" (the CDK stack runs it on ECS Fargate).

# 1. Build: compile TypeScript with the full (dev) tree.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production tree only: no dev dependencies, no emulators, no tests.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Run as the unprivileged node user, on a read-only root filesystem (nothing is written to disk).
FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY workflows ./workflows
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: the bot stops claiming work, finishes or releases the step in hand and exits within 45 s.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
