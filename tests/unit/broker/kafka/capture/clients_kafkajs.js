// clients_kafkajs.js: drives kafkajs 2.2.4 against the capture server so it
// records its real requests. Usage: node clients_kafkajs.js BOOTSTRAP TOPIC
const { Kafka, logLevel } = require('kafkajs')
const [bootstrap, topic] = process.argv.slice(2)

async function main () {
  const kafka = new Kafka({ clientId: 'cap-kafkajs', brokers: [bootstrap],
    logLevel: logLevel.NOTHING, retry: { retries: 1 } })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic, messages: [{ key: 'k0', value: 'value-0' },
    { key: 'k1', value: 'value-1' }] })
  await producer.send({ topic, acks: 1, messages: [{ value: 'value-2' }] })
  await producer.disconnect()
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'cap-new', numPartitions: 3 }] })
    .catch(() => {})
  await admin.fetchTopicOffsets(topic).catch(() => {})
  await admin.fetchTopicOffsetsByTimestamp(topic, 1000).catch(() => {})
  await admin.deleteTopics({ topics: ['cap-new'] }).catch(() => {})
  await admin.disconnect()
  const consumer = kafka.consumer({ groupId: 'cap-group' })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: async () => {} })
  await new Promise(resolve => setTimeout(resolve, 4000))
  await consumer.disconnect()
}

main().then(() => process.exit(0), err => { console.error(err); process.exit(1) })
