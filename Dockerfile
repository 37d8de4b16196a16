# port-camel-agent — build with Maven, run on a Java 17 JRE as a non-root user.
#   docker build -t port-camel-agent .
#   docker run --env-file .env -p 8080:8080 -p 9876:9876 \
#     -v $PWD/invocations.json:/app/invocations.json \
#     -v $PWD/certs:/app/certs:ro \
#     -v port-camel-agent-data:/app/data \
#     port-camel-agent
#
# /app (the working directory): routes/, application.properties, invocations.json — each can be mounted over;
# /app/data: the H2 tracking store (a volume; not needed with TRACKING_JDBC_URL=jdbc:postgresql://…);
# /app/certs: custom CA certificates (*.crt, *.pem), imported at start by deploy/docker-entrypoint.sh.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src src
COPY application.properties .
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:17-jre
# uid 10001, group 0 (root group, no privileges) so an arbitrary uid in group 0 (OpenShift) can write /app/data too
RUN useradd --system --uid 10001 --gid 0 --home-dir /app --no-create-home agent \
 && mkdir -p /app/data /app/certs \
 && chown -R 10001:0 /app/data \
 && chmod -R g=u /app/data
WORKDIR /app
COPY --from=build /src/target/port-camel-agent.jar /app/port-camel-agent.jar
COPY --from=build /src/target/lib /app/lib
# the flow and the mappings stay outside the jar so they can be mounted and edited
COPY routes /app/routes
COPY application.properties invocations.json /app/
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV APP_HOME=/app \
    CA_CERTS_DIR=/app/certs \
    AGENT_HTTP_PORT=8080 \
    AGENT_MANAGEMENT_PORT=9876
VOLUME ["/app/data"]
USER 10001
# 8080: Port's webhook calls and pipeline callbacks; 9876: /observe/health, /observe/metrics
EXPOSE 8080 9876
# the JRE image has no curl (and wget is not guaranteed): the entrypoint's healthcheck uses bash's /dev/tcp
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["docker-entrypoint.sh", "healthcheck", "/observe/health"]
# imports /app/certs/*.crt|*.pem, then exec java -jar /app/port-camel-agent.jar (java is PID 1 and gets SIGTERM)
ENTRYPOINT ["docker-entrypoint.sh"]
