#!/bin/sh
# Formats the storage once (a fresh cluster id), then runs the broker as PID 1.
set -eu
port="${KAFKA_PORT:-9092}"
controller="${KAFKA_CONTROLLER_PORT:-9093}"
host="${KAFKA_ADVERTISED_HOST:-127.0.0.1}"
heap="${KAFKA_HEAP:-512m}"
data=/var/lib/kafka
cat > /opt/kafka/server.properties <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controller}
listeners=PLAINTEXT://0.0.0.0:${port},CONTROLLER://127.0.0.1:${controller}
advertised.listeners=PLAINTEXT://${host}:${port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${data}/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
opts="-Xmx${heap} -Xms${heap} -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile=/opt/kafka/log4j2.xml -Dkafka.logs.dir=${data}/logs"
if [ ! -f "${data}/data/meta.properties" ]; then
  cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  # shellcheck disable=SC2086
  java ${opts} -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format --cluster-id="${cluster_id}" \
    -c /opt/kafka/server.properties >/dev/null
fi
echo "kafka-entrypoint: starting broker on ${host}:${port}"
# shellcheck disable=SC2086
exec java ${opts} -cp '/opt/kafka/libs/*' kafka.Kafka /opt/kafka/server.properties
