# One image for both processes: `node dist/broker/main.js` or `node dist/portal-jobs/main.js`;
# operators' one-shot jobs: `node bin/tablemq-jobs.js run clean-history`; the operator CLI:
# `node dist/cli/main.js`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY broker broker
COPY portal-jobs portal-jobs
COPY shared shared
COPY migrations migrations
COPY launcher launcher
COPY client client
COPY cli cli
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
USER node
CMD ["node", "dist/broker/main.js"]
