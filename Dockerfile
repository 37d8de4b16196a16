# port-camel-agent — build with Maven, run on a Java 17 JRE as a non-root user.
#   docker build -t port-camel-agent .
#   docker run --env-file .env -v $PWD/invocations.json:/app/invocations.json port-camel-agent
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src src
COPY application.properties .
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home /app agent
WORKDIR /app
COPY --from=build /src/target/port-camel-agent.jar /app/port-camel-agent.jar
COPY --from=build /src/target/lib /app/lib
# the flow and the mappings stay outside the jar so they can be mounted and edited
COPY routes /app/routes
COPY application.properties invocations.json /app/
USER agent
EXPOSE 8080
# the same command the tests use to start the jar
ENTRYPOINT ["java", "-jar", "/app/port-camel-agent.jar"]
