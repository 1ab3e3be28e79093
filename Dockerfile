# The control plane as a container, for docker-compose.yml (needs a registry
# and the internet: the official Pulumi CLI, images pulled by the templates).
FROM node:20-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker.io docker-compose openssh-client curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && curl -fsSL https://get.pulumi.com | sh -s -- --version 3.230.0
ENV PATH=/root/.pulumi/bin:$PATH
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# The bootstrap uses what it finds: DATABASE_URL, the mounted Docker socket,
# pulumi on PATH, the official images; then it runs the service.
CMD ["npm", "start"]
